package console

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// TestFreshness: the banner says how far behind the leader the answering
// site's copy is, as the site's header says, in both languages; a copy
// that is current says so quietly.
func TestFreshness(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := c.printer("en"), c.printer("zh")
	follower := func(contact time.Duration) *innonetpb.ReadInfo {
		return &innonetpb.ReadInfo{Site: "MUC", Leader: "CGO", LastContact: durationpb.New(contact)}
	}
	behind := func(ms string) metadata.MD { return metadata.Pairs(mdBehindMS, ms) }
	for _, c := range []struct {
		name     string
		ri       *innonetpb.ReadInfo
		md       metadata.MD
		lagging  bool
		en, zh   string
		notBoth  string // in neither banner
		wantTime time.Duration
	}{
		{name: "the leader", ri: &innonetpb.ReadInfo{Site: "CGO", Leader: "CGO"}, md: behind("0"),
			en: "Zhengzhou HQ's copy · current", zh: "郑州总部的副本 · 最新"},
		{name: "a follower in touch", ri: follower(40 * time.Millisecond), md: behind("40"), wantTime: 40 * time.Millisecond,
			en: "Munich's copy · current", zh: "慕尼黑的副本 · 最新", notBoth: "behind"},
		{name: "a follower whose copy lags while contact continues", ri: follower(30 * time.Millisecond), md: behind("40250"),
			lagging: true, wantTime: 40250 * time.Millisecond,
			en: "Munich's copy, 40 s behind Zhengzhou HQ", zh: "慕尼黑的副本，比郑州总部落后 40 秒"},
		{name: "a follower cut off for minutes", ri: follower(3 * time.Minute), md: behind("185000"), lagging: true, wantTime: 185 * time.Second,
			en: "Munich's copy, 3 min behind Zhengzhou HQ", zh: "慕尼黑的副本，比郑州总部落后 3 分钟"},
		{name: "an older site without the header: its last contact", ri: follower(5 * time.Second), lagging: true, wantTime: 5 * time.Second,
			en: "Munich's copy, 5 s behind Zhengzhou HQ", zh: "落后 5 秒"},
		{name: "lost touch with the leader", ri: &innonetpb.ReadInfo{Site: "MUC", LastContact: durationpb.New(7 * time.Second)},
			md: metadata.Pairs(mdBehindMS, "7100", mdLastLeader, "CGO"), lagging: true, wantTime: 7100 * time.Millisecond,
			en: "Munich's copy, 7 s behind Zhengzhou HQ, which this site cannot reach now", zh: "慕尼黑的副本，比郑州总部落后 7 秒，本站点暂时无法连接郑州总部"},
		{name: "no leader known", ri: &innonetpb.ReadInfo{Site: "MUC", LastContact: durationpb.New(12 * time.Second)}, md: behind("12000"),
			lagging: true, wantTime: 12 * time.Second,
			en: "Munich's copy, 12 s behind: this site has lost touch with the leader", zh: "慕尼黑的副本，已落后 12 秒：本站点与主站点失去联系"},
		{name: "no leader known, just now", ri: &innonetpb.ReadInfo{Site: "MUC"}, md: behind("300"), lagging: true, wantTime: 300 * time.Millisecond,
			en: "Munich's copy: this site cannot reach the leader now", zh: "本站点暂时无法连接主站点"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := freshOf(c.ri, c.md)
			if f.Behind != c.wantTime || f.Lagging() != c.lagging {
				t.Errorf("got behind %s, lagging %v; want %s, %v", f.Behind, f.Lagging(), c.wantTime, c.lagging)
			}
			gotEN, gotZH := f.Banner(en), f.Banner(zh)
			if !strings.Contains(gotEN, c.en) {
				t.Errorf("English banner %q, want %q in it", gotEN, c.en)
			}
			if !strings.Contains(gotZH, c.zh) {
				t.Errorf("Chinese banner %q, want %q in it", gotZH, c.zh)
			}
			if c.notBoth != "" && (strings.Contains(gotEN, c.notBoth) || strings.Contains(gotZH, c.notBoth)) {
				t.Errorf("banners %q and %q say %q", gotEN, gotZH, c.notBoth)
			}
		})
	}
	if got := freshOf(nil, nil).Banner(en); got != "" {
		t.Errorf("no read info: banner %q, want none", got)
	}
}
