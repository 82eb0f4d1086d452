package console

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// refusalExamples has, for every rule in refusals, a message the API
// sends (in node/pipeline's or the API layer's words) and what the
// console says for it in each language.
var refusalExamples = map[string]struct {
	msg    string
	en, zh string
}{
	"refuse.comment.return":         {"comment: is required when the decision is RETURN", "write the question in the comment", "请在“给站点的意见”中写下问题"},
	"refuse.comment.decline":        {"comment: is required when the decision is DECLINE", "why the lead is declined", "拒绝的理由"},
	"refuse.decision":               {"decision: must be APPROVE, RETURN or DECLINE", "Choose a decision", "请选择决定"},
	"refuse.comment.other":          {"comment: is required when the reason is OTHER: say why the deal fell through", "why the deal fell through", "未能成交的原因"},
	"refuse.comment.reopen":         {"comment: is required: say why the lead is reopened", "why the lead is reopened", "重新打开线索的原因"},
	"refuse.closereason":            {"reason: must be one of TERMS_NOT_AGREED, PARTNER_WITHDREW, OTHER", "Choose why the lead is closed", "请选择关闭原因"},
	"refuse.reopen.stage":           {"stage: a lead is reopened to SUBMITTED (to review it again) or APPROVED (to publish it again), got LOST", "reopened to Submitted", "重新打开为“待审核”"},
	"refuse.rationale":              {"rationale: is required: say why your division wants the lead", "why your division wants the lead", "贵事业部为什么需要"},
	"refuse.visibility":             {"visibility: is required: SHARED (everyone who may see the lead), HQ_AND_SITE (HQ and the submitting site) or DIVISION (a division and HQ)", "Choose who can read it", "请选择可见范围"},
	"refuse.stage":                  {"lead MUC-0007 is in stage DECLINED; only SUBMITTED, RETURNED or APPROVED leads can be withdrawn", "Lead MUC-0007 is Declined now: only Submitted, Returned or Published leads can be withdrawn.", "线索 MUC-0007 现为“已拒绝”：只有“待审核、已退回或已发布”的线索才能撤回。"},
	"refuse.advance":                {"lead MUC-0007 is in stage CLAIMED; it can move to SIGNED only from NEGOTIATING", "it moves to Signed only from Negotiating", "只能从“洽谈中”进入“已签约”"},
	"refuse.claim.yours":            {"lead MUC-0007 is in stage CLAIMED, already claimed by your division YRD", "Your division (Yangtze River Delta) already holds lead MUC-0007", "贵事业部（长三角事业部）已持有线索 MUC-0007"},
	"refuse.assign.held":            {"lead MUC-0007 is in stage NEGOTIATING, already held by BOHAI", "already held by Bohai Rim; it is Negotiating", "已由环渤海事业部持有，现为“洽谈中”"},
	"refuse.assigned":               {"lead MUC-0007 is in stage APPROVED with claim mode ASSIGNED: HQ assigns this lead; express your division's interest instead (:express-interest)", "HQ assigns lead MUC-0007: express your division's interest instead", "线索 MUC-0007 由总部分配"},
	"refuse.interest.stage":         {"lead MUC-0007 is in stage CLAIMED; divisions express interest only while a lead is APPROVED", "Lead MUC-0007 is Claimed now", "线索 MUC-0007 现为“已认领”"},
	"refuse.interest.none":          {"division PRD has no standing expression of interest in lead MUC-0007 to withdraw", "Pearl River Delta has no interest in lead MUC-0007", "珠三角事业部对线索 MUC-0007 没有可撤回的意向"},
	"refuse.attach.withdrawn":       {"lead MUC-0007 is in stage WITHDRAWN; nothing can be added to a withdrawn lead", "nothing can be added", "不能再添加内容"},
	"refuse.attach.full":            {"lead MUC-0007 holds 20 attachments, the most a lead may hold; remove one first", "already holds 20 files", "已有 20 个文件"},
	"refuse.version":                {"lead MUC-0007 is at version 5, not the expected 4; read it again", "now at version 5; this page showed version 4", "现为第 5 版，本页显示的是第 4 版"},
	"refuse.org.version":            {"organization org-0003 is at version 2, not the expected 1; read it again", "Organisation org-0003 changed meanwhile", "机构 org-0003 在此期间已被修改"},
	"refuse.role":                   {"only HQ_REVIEWER may review leads; caller is NODE_STAFF", "Only users with the role “HQ reviewer” may review leads; your role is “Node staff”.", "只有角色为“总部审核”的用户才能审核线索；您的角色是“站点人员”。"},
	"refuse.ownsite.role":           {"only node staff of MUC may withdraw lead MUC-0007; caller is DIVISION", "Only node staff of Munich may withdraw lead MUC-0007", "只有慕尼黑的站点人员才能撤回线索 MUC-0007"},
	"refuse.ownsite":                {"lead MUC-0007 belongs to site MUC; staff of BOS may not edit it", "Lead MUC-0007 belongs to Munich: staff of Boston may not edit it.", "线索 MUC-0007 属于慕尼黑：波士顿的人员不能编辑该线索。"},
	"refuse.ownsite.attach":         {"lead MUC-0007 belongs to site MUC; staff of BOS may not add attachments to it", "staff of Boston may not add files", "波士顿的人员不能为其添加文件"},
	"refuse.release.notheld":        {"lead MUC-0007 is not claimed by PRD; only the claiming division or HQ may release it", "not held by Pearl River Delta", "并非由珠三角事业部持有"},
	"refuse.release.role":           {"only the claiming division or HQ may release a lead; caller is NODE_STAFF", "may release it; your role is “Node staff”", "您的角色是“站点人员”"},
	"refuse.advance.role":           {"only the claiming division may advance a lead; caller is HQ_REVIEWER", "may move it on", "才能推进线索"},
	"refuse.notheld":                {"lead MUC-0007 is not claimed by PRD", "Lead MUC-0007 is not held by Pearl River Delta.", "线索 MUC-0007 并非由珠三角事业部持有。"},
	"refuse.holder":                 {"lead MUC-0007 is not held by PRD; only the division holding it or HQ may close it", "or HQ, may close it", "或总部才能关闭"},
	"refuse.holder.role":            {"only the division holding a lead or HQ may close it; caller is NODE_STAFF", "may close it; your role is “Node staff”", "才能关闭线索"},
	"refuse.deal.role":              {"only the claiming division records deal terms; caller is HQ_REVIEWER", "records its deal terms", "才能填写合作条款"},
	"refuse.deal.notheld":           {"lead MUC-0007 is not claimed by PRD; only the claiming division records its deal terms", "not held by Pearl River Delta", "并非由珠三角事业部持有"},
	"refuse.cansee":                 {"DIVISION PRD may not see lead MUC-0007", "You may not see lead MUC-0007.", "您无权查看线索 MUC-0007。"},
	"refuse.requires.self":          {"requires role ADMIN, or the caller's own user ID; caller u-0004 is NODE_STAFF", "Only an administrator, or the user themself", "只有管理员或用户本人"},
	"refuse.requires":               {"requires role HQ_REVIEWER or ADMIN; caller u-0004 is DIVISION", "This needs the role HQ reviewer or Administrator; yours is Division.", "此操作需要总部审核或管理员角色；您的角色是事业部。"},
	"refuse.interests":              {"expressions of interest in lead MUC-0007 are between the divisions and HQ", "between the divisions and HQ", "仅在事业部与总部之间可见"},
	"refuse.comment.admin":          {"ADMIN users run the network and do not comment on leads", "do not comment on leads", "不对线索留言"},
	"refuse.comment.hqsite":         {"HQ_AND_SITE comments are between HQ and the submitting site MUC; a division comments SHARED or DIVISION", "between HQ and Munich", "仅在总部与慕尼黑之间"},
	"refuse.comment.division":       {"DIVISION comments are between a division and HQ; node staff comment SHARED or HQ_AND_SITE", "node staff write for everyone", "站点人员的留言"},
	"refuse.comment.other.division": {"a division writes DIVISION comments for itself (YRD), not for PRD", "for itself (Yangtze River Delta), not for Pearl River Delta", "本事业部（长三角事业部）"},
	"refuse.comment.nodivision":     {"lead MUC-0007 is held by no division: name the division the DIVISION comment is for", "No division holds lead MUC-0007", "线索 MUC-0007 尚无事业部持有"},
	"refuse.translate.same":         {"lead MUC-0007 is written in de; a translation is into another language", "Lead MUC-0007 is written in de", "线索 MUC-0007 以 de 撰写"},
	"refuse.translate.verify":       {"only HQ reviewers may write and verify a translation at once; save it as DRAFT and let HQ or a colleague verify it", "save it as a draft", "请先保存为草稿"},
	"refuse.translate.own":          {"you wrote the zh translation of lead MUC-0007; it must be verified by HQ or by someone else", "You wrote the zh translation of lead MUC-0007", "线索 MUC-0007 的 zh 译文由您撰写"},
	"refuse.translate.empty":        {"title: a translation needs a title, a summary or both", "needs a title, a summary or both", "译文需要标题、摘要或两者"},
	"refuse.translate.role":         {"only HQ reviewers, node staff of the lead's site and divisions that see it may translate a lead; caller is ADMIN", "your role is “Administrator”", "您的角色是“管理员”"},
	"refuse.currency":               {`currency: "EURO" is not an ISO 4217 currency code (e.g. CNY, USD, EUR, GBP, ILS)`, "“EURO” is not a currency code", "“EURO”不是币种代码"},
	"refuse.currency.required":      {"currency: is required with an amount (ISO 4217, e.g. CNY, USD, EUR)", "Give the currency of the amount", "请填写金额的币种"},
	"refuse.amount":                 {`amount: "42,000" is not an amount: a decimal number such as 42000000 or 1250000.50 (no sign, separators or exponent; at most 15 digits before the point)`, "“42,000” is not an amount", "“42,000”不是金额"},
	"refuse.amount.decimals":        {"amount: 10.505 has 3 decimals; CNY has 2", "10.505 has 3 decimals, but amounts in CNY have at most 2", "10.505 有 3 位小数，而 CNY 金额最多 2 位"},
	"refuse.jobs":                   {"jobs: must be from 0 to 1000000, got -3", "from 0 to 1000000; this is -3", "0 到 1000000 之间；当前为 -3"},
	"refuse.date":                   {`expected_signing_date: "31.03.2027" is not a date of the form YYYY-MM-DD (e.g. 2027-03-31)`, "“31.03.2027” is not a date for “expected signing”", "“31.03.2027”不是有效的“预计签约”日期"},
	"refuse.date.range":             {"expected_landing_date: 2200-01-01 is out of range (years 1990 to 2100)", "“expected landing” 2200-01-01 is out of range: years 1990 to 2100.", "“预计落地”2200-01-01 超出范围"},
	"refuse.partner.unknown":        {"partner_id: org-0099 is not a known organization (POST /v1/organizations adds the enterprise)", "org-0099 is not a known organisation", "org-0099 不是已登记的机构"},
	"refuse.partner.kind":           {"partner_id: org-0003 (HydroSea GmbH) is a STARTUP; the partner enterprise must be a LOCAL_ENTERPRISE", "org-0003 (HydroSea GmbH) is of the kind “Startup”", "org-0003（HydroSea GmbH）属于“初创企业”"},
	"refuse.trl":                    {"trl: must be a technology readiness level from 1 to 9, got 12", "from 1 to 9; this is 12", "须为 1 到 9 级；当前为 12"},
	"refuse.country":                {`country: "Germany" is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE, IL)`, "“Germany” is not a country code", "“Germany”不是国家代码"},
	"refuse.language":               {`language: "German" is not a BCP 47 language tag (e.g. en, de, he, zh-Hans)`, "“German” is not a language tag", "“German”不是语言代码"},
	"refuse.sector":                 {"sector: must be one of LIFE_SCIENCES_HEALTH, ADVANCED_MANUFACTURING, ELECTRONICS_SEMICONDUCTORS, NEW_MATERIALS, NEW_ENERGY_VEHICLES, ENVIRONMENT_WATER, IT_AI, OTHER", "Choose the lead's sector", "请选择线索所属领域"},
	"refuse.dealtype":               {"deal_type: must be one of INVESTMENT, TECHNOLOGY_LICENSING, JOINT_VENTURE, RND_COLLABORATION, RELOCATION", "Choose the kind of deal", "请选择合作方式"},
	"refuse.website":                {`website: "hydrosea" is not a web address starting with https:// or http://`, "“hydrosea” is not a web address", "“hydrosea”不是网址"},
	"refuse.email":                  {`contacts.email: "anna@" is not an email address`, "“anna@” is not an e-mail address.", "“anna@”不是电子邮件地址。"},
	"refuse.tags":                   {"tags: at most 20 tags, got 25", "at most 20 tags; this has 25", "最多 20 个标签；当前为 25 个"},
	"refuse.contacts":               {"contacts: at most 10 contacts, got 12", "at most 10 contacts; this has 12", "最多 10 位联系人；当前为 12 位"},
	"refuse.org.required":           {"organization: is required when the lead links no organization (organization_id)", "Choose the organisation behind the lead", "请选择线索所属机构"},
	"refuse.org.unknown":            {"organization_id: org-0099 is not a known organization (POST /v1/organizations adds it)", "org-0099 is not a known organisation", "org-0099 不是已登记的机构"},
	"refuse.org.local":              {"organization_id: org-0002 (Tianjin Port) is a LOCAL_ENTERPRISE; a lead links to the foreign organization behind it", "is of the kind “Local enterprise”", "属于“本地企业”"},
	"refuse.org.country":            {"country: is required for a foreign organization (ISO 3166-1 alpha-2, e.g. US, DE)", "Give the country of a foreign organisation", "请填写境外机构所在国家"},
	"refuse.org.exists":             {`"HydroSea GmbH" is already a name of org-0003 (HydroSea GmbH, STARTUP, DE): link to it instead of adding it again`, "“HydroSea GmbH” is already a name of org-0003", "“HydroSea GmbH”已是机构 org-0003 的名称"},
	"refuse.site.unregistered":      {"your site MUC-LAB is not registered, so it cannot submit leads: ask an admin to register it as a sub-node (POST /v1/sites) or to add you to one of MUC, BOS", "Your site MUC-LAB is not registered", "您的站点 MUC-LAB 尚未登记"},
	"refuse.file.none":              {"file: choose a file to attach", "Choose a file to attach.", "请选择要附加的文件。"},
	"refuse.file.big":               {`file: "deck.pdf" is 40000000 bytes; an attachment may be at most 33554432`, "“deck.pdf” is 40000000 bytes", "“deck.pdf”有 40000000 字节"},
	"refuse.jobs.number":            {`jobs: "many" is not a whole number`, "“many” is not a whole number", "“many”不是整数"},
	"refuse.file.empty":             {"file: is empty; an attachment has at least one byte", "The file is empty", "文件为空"},
	"refuse.revoke.self":            {"an admin cannot revoke its own token; ask another admin", "You cannot revoke yourself", "您不能撤销自己"},
	"refuse.user.revoked":           {"user u-0009 has been revoked; add a new user instead", "User u-0009 has been revoked", "用户 u-0009 已被撤销"},
	"refuse.user.name":              {`name: user u-0004 is already called "Li Wei", and people sign in by name; choose another name, or invite u-0004 again with user_id`, "There is already a user called “Li Wei” (u-0004)", "已有名为“Li Wei”的用户（u-0004）"},
	"refuse.staff.site":             {`site: "XYZ" is not a registered site or sub-node; node staff may belong to: BOS, MUC, MUC-TUM (an admin registers sub-nodes with POST /v1/sites)`, "“XYZ” is not a registered site or sub-node: node staff belong to one of BOS, MUC, MUC-TUM.", "“XYZ”不是已登记的站点或下级节点"},
	"refuse.division":               {`division: must be one of the divisions BOHAI, YRD or PRD, got "NE"`, "“NE” is not a division", "“NE”不是事业部"},
	"refuse.subnode.code":           {`code: "muc-x" is not a sub-node code: its parent's code, a hyphen and 2 to 8 capital letters or digits starting with a letter (e.g. MUC-TUM under MUC, MUC-TUM-LAB under MUC-TUM)`, "“muc-x” is not a sub-node code", "“muc-x”不是下级节点代码"},
	"refuse.site.exists":            {"site MUC-TUM is already registered (TU München, UNIVERSITY, under MUC)", "MUC-TUM is already registered (TU München, University, under Munich).", "MUC-TUM 已登记（TU München，大学，隶属慕尼黑）。"},
	"refuse.required":               {"title: is required", "“title” is required.", "请填写“标题”。"},
	"refuse.toolong":                {"summary: must be at most 4000 characters, got 4321", "“summary” may be at most 4000 characters long; this is 4321.", "“摘要”最多 4000 个字符；当前为 4321 个。"},
	"refuse.oneline":                {"title: must be a single line without control characters", "“title” must be a single line.", "“标题”只能填写一行。"},
	"refuse.control":                {"body: must not contain control characters", "“message” contains characters that cannot be saved", "“留言”含有无法保存的控制字符"},
	"api.merge.self":                {"into: a lead cannot be merged into itself (MUC-0007)", "A lead cannot be merged into itself (MUC-0007).", "线索不能合并到自身（MUC-0007）。"},
	"api.merge.already":             {"lead MUC-0007 was already merged into MUC-0002", "Lead MUC-0007 was already merged into MUC-0002.", "线索 MUC-0007 已经合并到 MUC-0002。"},
	"api.merge.intomerged":          {"lead MUC-0007 was itself merged into MUC-0002: merge into MUC-0002", "merge into MUC-0002 instead", "请改为合并到 MUC-0002"},
	"api.merge.worked":              {"lead MUC-0007 is in stage CLAIMED, worked by YRD: a lead a division works is not merged away; merge the other lead into MUC-0007 instead, or release or close it first", "Lead MUC-0007 is Claimed and worked by Yangtze River Delta", "线索 MUC-0007 处于“已认领”阶段，由长三角事业部跟进"},
	"api.merge.unknown":             {"into: lead MUC-0099 does not exist", "There is no lead MUC-0099", "没有线索 MUC-0099"},
	"api.merge.nointo":              {"into: is required: the ID of the lead this one duplicates, which stays", "Say which lead this one duplicates", "请填写本线索所重复的线索编号"},
	"api.merge.badid":               {`into: "abc" is not a lead ID of the form SITE-NNNN`, "“abc” is not a lead ID", "“abc”不是线索编号"},
	"api.profile.conflict":          {"the profile of BOHAI is at version 3, not the expected 2; read it again", "Someone saved the profile of Bohai Rim meanwhile (now version 3).", "有人在此期间保存了环渤海事业部的画像（现为第 3 版）。"},
}

// TestRefusals: every rule has an example; each example is told by its
// own rule (not shadowed by an earlier one), in both languages, with its
// enum values in words and nothing of the API's English left in Chinese.
func TestRefusals(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := c.printer("en"), c.printer("zh")
	seen := map[string]bool{}
	for _, r := range refusals {
		if seen[r.key] {
			t.Errorf("two rules give %s", r.key)
		}
		seen[r.key] = true
		ex, ok := refusalExamples[r.key]
		if !ok {
			t.Errorf("rule %s (%s) has no example", r.key, r.re)
			continue
		}
		t.Run(r.key, func(t *testing.T) {
			for _, other := range refusals {
				if other.re.MatchString(ex.msg) {
					if other.key != r.key {
						t.Errorf("%q is told by %s, which comes before %s", ex.msg, other.key, r.key)
					}
					break
				}
			}
			for _, lang := range []struct {
				t    *tr
				want string
			}{{en, ex.en}, {zh, ex.zh}} {
				got, known := lang.t.Refusal(ex.msg)
				if !known || !strings.Contains(got, lang.want) || strings.Contains(got, "%!") {
					t.Errorf("%s: %q says %q (known %v), want %q in it", lang.t.lang, ex.msg, got, known, lang.want)
				}
			}
			if got, _ := zh.Refusal(ex.msg); strings.Contains(got, ex.msg) || strings.Contains(got, " may ") || strings.Contains(got, " is ") {
				t.Errorf("Chinese words %q keep English", got)
			}
		})
	}
	for key := range refusalExamples {
		if !seen[key] {
			t.Errorf("example %s has no rule", key)
		}
	}
}

// TestAPIFlash: a refusal reads as a headline of its kind, naming the
// field where the API did, above the precise reason, in the reader's
// language; a refusal no rule knows keeps the API's English under the
// headline; a lost claim says who won.
func TestAPIFlash(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cat: c}
	for _, c := range []struct {
		name  string
		err   error
		lang  string
		msg   string
		field string
		want  string
	}{
		{"a field, in English", status.Error(codes.InvalidArgument, "comment: is required when the decision is RETURN"), "en",
			"Check the field “comment”:", "comment", "write the question in the comment"},
		{"a field, in Chinese", status.Error(codes.InvalidArgument, "comment: is required when the decision is RETURN"), "zh",
			"请检查字段“说明”：", "comment", "请在“给站点的意见”中写下问题"},
		{"a stage, in Chinese", status.Error(codes.FailedPrecondition, "lead MUC-0007 is in stage DECLINED; only SUBMITTED leads can be reviewed"), "zh",
			"目前无法执行此操作：", "", "线索 MUC-0007 现为“已拒绝”：只有“待审核”的线索才能审核。"},
		{"a permission, in English", status.Error(codes.PermissionDenied, "lead MUC-0007 belongs to site MUC; staff of BOS may not withdraw it"), "en",
			"You are not allowed to do this.", "", "Lead MUC-0007 belongs to Munich: staff of Boston may not withdraw it."},
		{"a user's name, in Chinese", status.Error(codes.FailedPrecondition, `name: user u-0004 is already called "Li Wei", and people sign in by name; choose another name, or invite u-0004 again with user_id`), "zh",
			"请检查字段“名称”：", "name", "已有名为“Li Wei”的用户"},
		{"unknown, in Chinese: the API's English under the headline", status.Error(codes.FailedPrecondition, "the moon is in the wrong phase"), "zh",
			"目前无法执行此操作：", "", "the moon is in the wrong phase"},
		{"unknown code", status.Error(codes.Code(99), "what"), "en", "The request was refused:", "", "what"},
		{"a lost claim", status.Error(codes.Aborted, "claim lost: lead MUC-0007 is already claimed by BOHAI"), "zh",
			"晚了一步：环渤海事业部 已先认领此项目。", "", ""},
		{"not a status", errors.New("boom"), "en", "The request was refused:", "", "boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := s.apiFlash(s.cat.printer(c.lang), c.err)
			if f.Msg != c.msg || f.Field != c.field || !strings.Contains(f.Detail, c.want) || c.want == "" && f.Detail != "" {
				t.Errorf("got %q / %q (field %q), want %q / %q (field %q)", f.Msg, f.Detail, f.Field, c.msg, c.want, c.field)
			}
		})
	}
}
