package notify

import "strings"

// The message catalogue: one table per language, the same keys in each
// (a test checks). The headlines take, by explicit index so that each
// language orders them its own way:
//
//	%[1]s actor  %[2]s lead ID  %[3]s title  %[4]s from stage  %[5]s to stage
//	%[6]s division  %[7]s action  %[8]s related lead
//
// the SLA headlines: %[1]s who must act, %[2]s lead ID, %[3]s title,
// %[4]s due, %[5]s stage; the subjects: %[1]s lead ID, %[2]s title.
var catalog = map[string]map[string]string{
	"en": {
		"action.SUBMIT":            "%[1]s submitted lead %[2]s “%[3]s” for review.",
		"action.UPDATE":            "%[1]s edited lead %[2]s “%[3]s”.",
		"action.RESUBMIT":          "%[1]s answered HQ's question and resubmitted lead %[2]s “%[3]s”.",
		"action.APPROVE":           "%[1]s approved lead %[2]s “%[3]s”; it is now published to the divisions.",
		"action.RETURN":            "%[1]s returned lead %[2]s “%[3]s” with a question.",
		"action.DECLINE":           "%[1]s declined lead %[2]s “%[3]s”.",
		"action.CLAIM":             "%[1]s claimed lead %[2]s “%[3]s” for %[6]s.",
		"action.RELEASE":           "%[1]s released lead %[2]s “%[3]s”; it is open to claims again.",
		"action.ADVANCE":           "%[1]s moved lead %[2]s “%[3]s” from %[4]s to %[5]s.",
		"action.WITHDRAW":          "%[1]s withdrew lead %[2]s “%[3]s”.",
		"action.CLOSE":             "%[1]s closed lead %[2]s “%[3]s” as %[5]s.",
		"action.REOPEN":            "%[1]s reopened lead %[2]s “%[3]s”; it is now %[5]s.",
		"action.ASSIGN":            "%[1]s assigned lead %[2]s “%[3]s” to %[6]s.",
		"action.EXPRESS_INTEREST":  "%[1]s expressed interest in lead %[2]s “%[3]s”.",
		"action.WITHDRAW_INTEREST": "%[1]s withdrew their interest in lead %[2]s “%[3]s”.",
		"action.COMMENT":           "%[1]s commented on lead %[2]s “%[3]s”.",
		"action.MERGE":             "%[1]s merged lead %[2]s “%[3]s” into lead %[8]s.",
		"action.MERGE_IN":          "%[1]s merged lead %[8]s into lead %[2]s “%[3]s”.",
		"action.ADD_ATTACHMENT":    "%[1]s attached a file to lead %[2]s “%[3]s”.",
		"action.OTHER":             "%[1]s: %[7]s on lead %[2]s “%[3]s”.",

		"sla.NEAR": "Lead %[2]s “%[3]s” (%[5]s) is due: %[1]s must act by %[4]s.",
		"sla.OVER": "Lead %[2]s “%[3]s” (%[5]s) is overdue: %[1]s was to act by %[4]s.",

		"subject.SUBMITTED":       "New lead to review: %[1]s %[2]s",
		"subject.RETURNED":        "Question from HQ: %[1]s %[2]s",
		"subject.ANSWERED":        "Answered and resubmitted: %[1]s %[2]s",
		"subject.PUBLISHED":       "New lead published: %[1]s %[2]s",
		"subject.PUBLISHED_MATCH": "New lead for your division: %[1]s %[2]s",
		"subject.INTEREST":        "Division interest: %[1]s %[2]s",
		"subject.ASSIGNED":        "Lead assigned to your division: %[1]s %[2]s",
		"subject.CLAIMED":         "Lead claimed: %[1]s %[2]s",
		"subject.STAGE_CHANGED":   "Lead update: %[1]s %[2]s",
		"subject.DECLINED":        "Lead declined: %[1]s %[2]s",
		"subject.MERGED":          "Lead merged: %[1]s %[2]s",
		"subject.COMMENT":         "New comment: %[1]s %[2]s",
		"subject.SLA.NEAR":        "Due soon: %[1]s %[2]s",
		"subject.SLA.OVER":        "Overdue: %[1]s %[2]s",

		"stage.SUBMITTED":   "Submitted",
		"stage.APPROVED":    "Approved",
		"stage.RETURNED":    "Returned",
		"stage.DECLINED":    "Declined",
		"stage.CLAIMED":     "Claimed",
		"stage.NEGOTIATING": "Negotiating",
		"stage.SIGNED":      "Signed",
		"stage.LANDED":      "Landed",
		"stage.WITHDRAWN":   "Withdrawn",
		"stage.LOST":        "Lost",
		"stage.MERGED":      "Merged",

		"party.HQ":        "HQ",
		"party.DIVISIONS": "the divisions",
		"party.system":    "innonet",
		"party.another":   "another lead",

		"label.colon":    ": ",
		"label.comment":  "Comment",
		"label.question": "HQ's question",
		"label.match":    "It matches your division's focus profile.",
		"label.open":     "Open in the console",
		"label.time":     "Time",
		"label.footer":   "You receive this because of your notification settings in innonet.",
		"digest.subject": "Daily digest for %[1]s: %[2]d notifications",
		"digest.intro":   "What happened on your leads:",
	},
	"zh": {
		"action.SUBMIT":            "%[1]s 提交了线索 %[2]s《%[3]s》，待审核。",
		"action.UPDATE":            "%[1]s 编辑了线索 %[2]s《%[3]s》。",
		"action.RESUBMIT":          "%[1]s 已答复总部的问题，重新提交了线索 %[2]s《%[3]s》。",
		"action.APPROVE":           "%[1]s 批准了线索 %[2]s《%[3]s》，已向各事业部发布。",
		"action.RETURN":            "%[1]s 退回了线索 %[2]s《%[3]s》并提出问题。",
		"action.DECLINE":           "%[1]s 未通过线索 %[2]s《%[3]s》。",
		"action.CLAIM":             "%[1]s 为 %[6]s 认领了线索 %[2]s《%[3]s》。",
		"action.RELEASE":           "%[1]s 释放了线索 %[2]s《%[3]s》，可重新认领。",
		"action.ADVANCE":           "%[1]s 将线索 %[2]s《%[3]s》从“%[4]s”推进到“%[5]s”。",
		"action.WITHDRAW":          "%[1]s 撤回了线索 %[2]s《%[3]s》。",
		"action.CLOSE":             "%[1]s 关闭了线索 %[2]s《%[3]s》（%[5]s）。",
		"action.REOPEN":            "%[1]s 重新打开了线索 %[2]s《%[3]s》，现为“%[5]s”。",
		"action.ASSIGN":            "%[1]s 将线索 %[2]s《%[3]s》分配给 %[6]s。",
		"action.EXPRESS_INTEREST":  "%[1]s 对线索 %[2]s《%[3]s》表达了意向。",
		"action.WITHDRAW_INTEREST": "%[1]s 撤回了对线索 %[2]s《%[3]s》的意向。",
		"action.COMMENT":           "%[1]s 评论了线索 %[2]s《%[3]s》。",
		"action.MERGE":             "%[1]s 将线索 %[2]s《%[3]s》合并到线索 %[8]s。",
		"action.MERGE_IN":          "%[1]s 将线索 %[8]s 合并到线索 %[2]s《%[3]s》。",
		"action.ADD_ATTACHMENT":    "%[1]s 为线索 %[2]s《%[3]s》添加了附件。",
		"action.OTHER":             "%[1]s 对线索 %[2]s《%[3]s》执行了 %[7]s。",

		"sla.NEAR": "线索 %[2]s《%[3]s》（%[5]s）即将到期：%[1]s 须在 %[4]s 前处理。",
		"sla.OVER": "线索 %[2]s《%[3]s》（%[5]s）已超期：%[1]s 应在 %[4]s 前处理。",

		"subject.SUBMITTED":       "新线索待审核：%[1]s %[2]s",
		"subject.RETURNED":        "总部提问：%[1]s %[2]s",
		"subject.ANSWERED":        "已答复并重新提交：%[1]s %[2]s",
		"subject.PUBLISHED":       "新发布线索：%[1]s %[2]s",
		"subject.PUBLISHED_MATCH": "与本事业部方向匹配的新线索：%[1]s %[2]s",
		"subject.INTEREST":        "事业部意向：%[1]s %[2]s",
		"subject.ASSIGNED":        "线索已分配给本事业部：%[1]s %[2]s",
		"subject.CLAIMED":         "线索已被认领：%[1]s %[2]s",
		"subject.STAGE_CHANGED":   "线索进展：%[1]s %[2]s",
		"subject.DECLINED":        "线索未通过：%[1]s %[2]s",
		"subject.MERGED":          "线索已合并：%[1]s %[2]s",
		"subject.COMMENT":         "新评论：%[1]s %[2]s",
		"subject.SLA.NEAR":        "即将到期：%[1]s %[2]s",
		"subject.SLA.OVER":        "已超期：%[1]s %[2]s",

		"stage.SUBMITTED":   "待审核",
		"stage.APPROVED":    "已发布",
		"stage.RETURNED":    "已退回",
		"stage.DECLINED":    "未通过",
		"stage.CLAIMED":     "已认领",
		"stage.NEGOTIATING": "洽谈中",
		"stage.SIGNED":      "已签约",
		"stage.LANDED":      "已落地",
		"stage.WITHDRAWN":   "已撤回",
		"stage.LOST":        "未成交",
		"stage.MERGED":      "已合并",

		"party.HQ":        "总部",
		"party.DIVISIONS": "各事业部",
		"party.system":    "innonet",
		"party.another":   "另一条线索",

		"label.colon":    "：",
		"label.comment":  "备注",
		"label.question": "总部的问题",
		"label.match":    "该线索与本事业部的关注方向高度匹配。",
		"label.open":     "在控制台中查看",
		"label.time":     "时间",
		"label.footer":   "您收到此通知，是因为您在 innonet 中的通知设置。",
		"digest.subject": "%[1]s 每日摘要：%[2]d 条通知",
		"digest.intro":   "您关注的线索动态：",
	},
}

// Lang is the catalogue language for a tag: zh for any Chinese tag
// (zh, zh-CN, zh-Hans), en for the rest.
func Lang(tag string) string {
	if t := strings.ToLower(tag); t == "zh" || strings.HasPrefix(t, "zh-") || strings.HasPrefix(t, "zh_") {
		return "zh"
	}
	return "en"
}

// msg is the catalogue entry; the key itself if it is missing, so that a
// gap shows rather than vanishes (the test forbids gaps).
func msg(lang, key string) string {
	if s, ok := catalog[lang][key]; ok {
		return s
	}
	return key
}

func has(lang, key string) bool {
	_, ok := catalog[lang][key]
	return ok
}
