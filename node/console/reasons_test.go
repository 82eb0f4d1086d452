package console

import (
	innonetpb "innonet/proto/innonet/v1"

	"testing"
)

// TestReasons shows the API's statements, one of each template of
// node/dedup and node/matching, in Chinese and English words.
func TestReasons(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := c.printer("zh"), c.printer("en")
	for _, tc := range []struct{ in, zh, en string }{
		{"same website domain hydrosolid.de", "网站域名相同：hydrosolid.de", "same website domain hydrosolid.de"},
		{"same e-mail domain hydrosolid.de", "邮箱域名相同：hydrosolid.de", ""},
		{"same domain name under other endings: hydrosolid.de and hydrosolid.com", "域名相同、后缀不同：hydrosolid.de 与 hydrosolid.com", ""},
		{"same contact e-mail anna@hydrosolid.de", "联系邮箱相同：anna@hydrosolid.de", ""},
		{"organisation name matches after removing legal forms: hydrosolid", "去掉公司类型后机构名称相同：hydrosolid", ""},
		{"organisation names share the distinctive word hydrosolid", "机构名称含同一特征词：hydrosolid", ""},
		{"organisation name HydroSolid matches the domain hydrosolid.de", "机构名称 HydroSolid 与域名 hydrosolid.de 相符", ""},
		{"same contact person anna weber", "联系人相同：anna weber", ""},
		{"similar title/summary across languages (0.62)", "标题和摘要跨语言相似（0.62）", "similar title and summary across languages (0.62)"},
		{"similar title/summary (0.91)", "标题和摘要相似（0.91）", ""},
		{"shared terms: hydrogen, 储氢", "共同词语：hydrogen, 储氢", ""},
		{"TRL 6 vs 4", "技术成熟度 6 对 4", ""},
		{"country DE vs US", "国家 DE 对 US", ""},
		{"deal type JOINT_VENTURE vs INVESTMENT", "合作方式 合资 对 投资", "kind of deal Joint venture vs Investment"},
		{"sector NEW_MATERIALS vs IT_AI", "行业 新材料 对 信息技术与人工智能", ""},
		{"the checked lead presents itself as another product of the organisation", "本草稿自称是该机构的另一款产品", ""},
		{"lead MUC-0003 presents itself as another product of the organisation", "线索 MUC-0003 自称是该机构的另一款产品", ""},
		{"no shared organisation evidence", "没有同一机构的共同证据", ""},
		{"keywords hydrogen, 储氢 (1.50)", "关键词 hydrogen, 储氢（1.50）", "keywords hydrogen, 储氢 (1.50)"},
		{"enterprise Tianjin Port Hydrogen Logistics looks for hydrogen storage (2.00): hydrogen storage for forklifts",
			"企业 Tianjin Port Hydrogen Logistics 需要 hydrogen storage（2.00）：hydrogen storage for forklifts", ""},
		{"sector NEW_ENERGY_VEHICLES ranked 2nd of 3 (1.00)", "行业 新能源与汽车 在其 3 个重点行业中排第 2（1.00）",
			"sector New energy & vehicles ranked no. 2 of 3 (1.00)"},
		{"TRL 6 within 4–8", "技术成熟度 6 在 4–8 之内", "TRL 6 within 4–8"},
		{"TRL 4 within 4–8, below the preferred 5", "技术成熟度 4 在 4–8 之内，低于首选起点 5", ""},
		{"TRL 2 outside 4–8", "技术成熟度 2 不在 4–8 之内", ""},
		{"prefers deal type JOINT_VENTURE", "偏好合作方式：合资", "prefers the kind of deal Joint venture"},
		{"a statement from a newer site", "a statement from a newer site", "a statement from a newer site"},
	} {
		if got := zh.Reason(tc.in); got != tc.zh {
			t.Errorf("zh %q: got %q, want %q", tc.in, got, tc.zh)
		}
		if tc.en != "" {
			if got := en.Reason(tc.in); got != tc.en {
				t.Errorf("en %q: got %q, want %q", tc.in, got, tc.en)
			}
		}
	}
	if got := zh.Reasons([]string{"deal type DEAL_TYPE_UNSPECIFIED vs JOINT_VENTURE", "TRL 6 vs 4"}); len(got) != 1 || got[0] != "技术成熟度 6 对 4" {
		t.Errorf("reasons with an unset value: %q", got)
	}
	e := &innonetpb.Enterprise{Name: "天津港氢能物流有限公司", NameEn: "Tianjin Port Hydrogen Logistics", Needs: "叉车储氢", NeedsEn: "hydrogen storage for forklifts"}
	got := zh.Reason(localEnterprise("enterprise Tianjin Port Hydrogen Logistics looks for hydrogen storage (2.00): hydrogen storage for forklifts", e))
	if want := "企业 天津港氢能物流有限公司 需要 hydrogen storage（2.00）：叉车储氢"; got != want {
		t.Errorf("enterprise in its own words: got %q, want %q", got, want)
	}
}

// TestNote: the note the API writes for a translation reads in the
// reader's language; a person's note stays as written.
func TestNote(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := c.printer("en"), c.printer("zh")
	const note = "zh translation (title and summary), VERIFIED, Li Wei"
	for _, c := range []struct {
		t            *tr
		action, note string
		want         string
	}{
		{zh, "TRANSLATE", note, "zh 译文（标题和摘要），已核对，译者：Li Wei"},
		{en, "VERIFY_TRANSLATION", "de translation (summary), DRAFT, Chen Jie", "de translation of the summary, draft, by Chen Jie"},
		{zh, "COMMENT", note, note},
		{zh, "TRANSLATE", "a note of my own", "a note of my own"},
	} {
		if got := c.t.Note(c.action, c.note); got != c.want {
			t.Errorf("%s: Note(%s, %q) = %q, want %q", c.t.lang, c.action, c.note, got, c.want)
		}
	}
}
