package search

import "strings"

// lexicon is the package's own thesaurus of technology terms in English,
// German, Chinese and Hebrew: the words scouts and reviewers use for the
// technologies of the network's sectors. It widens a query across
// languages as the glossary does (see expand), with the terms the
// glossary does not hold (it names sectors and deal types). Each line is
// one concept: names separated by "|", any language, any number; a name
// of several words matches as a phrase of words, a Chinese or Hebrew name
// anywhere. HQ's glossary entries add to it at run time.
var lexicon = parseLexicon(`
hydrogen|Wasserstoff|氢|氢能|氢气|מימן
hydrogen storage|Wasserstoffspeicher|Wasserstoffspeicherung|储氢|氢储存|אחסון מימן
electrolyser|electrolyzer|electrolysis|Elektrolyseur|Elektrolyse|电解槽|电解水|电解|אלקטרוליזר|אלקטרוליזה
fuel cell|Brennstoffzelle|燃料电池|תא דלק
ammonia|Ammoniak|氨|אמוניה
battery|batteries|Batterie|Akku|电池|סוללה|סוללות|מצבר
solid-state battery|Festkörperbatterie|Feststoffbatterie|固态电池|סוללה במצב מוצק
sodium-ion|Natrium-Ionen|钠离子|נתרן-יון
lithium-ion|Lithium-Ionen|锂离子|锂电池|ליתיום-יון
battery recycling|Batterierecycling|电池回收|מיחזור סוללות
recycling|Recycling|Wiederverwertung|回收|再生|循环利用|מיחזור
energy storage|Energiespeicher|储能|אגירת אנרגיה
thermal storage|Wärmespeicher|储热|אגירה תרמית
solar|photovoltaic|Photovoltaik|Solar|光伏|太阳能|סולארי|אנרגיה סולארית
wind power|Windkraft|风电|风能|אנרגיית רוח
electric vehicle|EV|Elektrofahrzeug|E-Auto|电动汽车|新能源汽车|רכב חשמלי
charging|charger|Ladestation|Laden|Schnellladen|充电|充电桩|טעינה
inverter|Wechselrichter|逆变器|ממיר
silicon carbide|SiC|Siliziumkarbid|碳化硅|סיליקון קרביד
gallium nitride|GaN|Galliumnitrid|氮化镓
power electronics|Leistungselektronik|电力电子|功率半导体|אלקטרוניקת הספק
motor|Elektromotor|电机|מנוע
autonomous driving|self-driving|autonomes Fahren|自动驾驶|无人驾驶|נהיגה אוטונומית
lidar|LiDAR|激光雷达|לידאר
radar|Radar|雷达|מכ"ם
sensor|Sensor|传感器|חיישן
drone|UAV|unmanned aerial|Drohne|无人机|רחפן|כטב"ם
robot|robotics|Roboter|Robotik|机器人|רובוט|רובוטיקה
gripper|Greifer|夹爪|抓手|תפסן
tactile|haptic|taktil|触觉|מישוש|טקטילי
semiconductor|chip|Halbleiter|Chip|芯片|半导体|集成电路|מוליך למחצה|שבב|שבבים
chip design|EDA|Chipdesign|芯片设计|设计软件|תכנון שבבים
photonics|photonic|Photonik|光子|光电|פוטוניקה
silicon photonics|Siliziumphotonik|硅光|硅光子|פוטוניקה של סיליקון
laser|Laser|激光|לייזר
quantum|Quanten|量子|קוונטי
display|Display|Anzeige|显示|显示屏|צג|תצוגה
micro-LED|microLED|Mikro-LED|Micro-LED|微型LED|微LED|מיקרו-LED
wafer|Wafer|晶圆|פרוסה
lithography|Lithografie|光刻|ליתוגרפיה
additive manufacturing|3D printing|additive Fertigung|3D-Druck|增材制造|3D打印|ייצור תוספתי|הדפסה תלת-ממדית
metal|Metall|金属|מתכת
machine tool|Werkzeugmaschine|机床|מכונת עיבוד
industrial automation|Automatisierung|工业自动化|自动化|אוטומציה
coating|Beschichtung|涂层|ציפוי
corrosion|Korrosion|Korrosionsschutz|腐蚀|防腐|קורוזיה
composite|carbon fibre|carbon fiber|Carbonfaser|Kohlefaser|Verbundwerkstoff|碳纤维|复合材料|סיבי פחמן|חומר מרוכב
graphene|Graphen|石墨烯|גרפן
polymer|Polymer|Kunststoff|聚合物|塑料|פולימר
catalyst|Katalysator|催化剂|זרז
ceramic|Keramik|陶瓷|קרמיקה
alloy|Legierung|合金|סגסוגת
water treatment|wastewater|sewage|Abwasser|Wasseraufbereitung|Abwasserbehandlung|污水处理|水处理|废水|טיפול במים|שפכים|טיהור שפכים
desalination|seawater|Entsalzung|Meerwasserentsalzung|Meerwasser|海水淡化|淡化|התפלה|מי ים
sewage sludge|sludge|Klärschlamm|Schlamm|污泥|בוצה
phosphorus|Phosphor|磷|זרחן
membrane|Membran|膜|ממברנה
carbon capture|CCUS|CO2 capture|CO2-Abscheidung|Kohlendioxid|碳捕集|碳捕获|二氧化碳|לכידת פחמן
emissions|Emissionen|排放|减排|פליטות
air pollution|Luftreinhaltung|大气污染|废气|זיהום אוויר
soil remediation|Bodensanierung|土壤修复|שיקום קרקע
waste|Abfall|废物|垃圾|פסולת
artificial intelligence|AI|KI|künstliche Intelligenz|人工智能|AI|בינה מלאכותית
machine learning|deep learning|maschinelles Lernen|机器学习|深度学习|למידת מכונה
computer vision|Bildverarbeitung|机器视觉|计算机视觉|ראייה ממוחשבת
cybersecurity|cyber security|IT-Sicherheit|Cybersicherheit|网络安全|信息安全|אבטחת סייבר|סייבר
industrial control|ICS|OT|SCADA|PLC|industrielle Steuerung|工控|工业控制|בקרה תעשייתית
fintech|financial technology|Finanztechnologie|金融科技|פינטק
fraud detection|Betrugserkennung|反欺诈|欺诈检测|זיהוי הונאות
payment|Zahlung|支付|תשלום
blockchain|Blockchain|区块链|בלוקצ'יין
cloud|Cloud|云计算|ענן
software|Software|软件|תוכנה
drug discovery|Wirkstoffforschung|Wirkstoffentdeckung|药物发现|药物研发|新药研发|גילוי תרופות
drug|pharmaceutical|Medikament|Arzneimittel|药物|制药|תרופה
biotech|biotechnology|Biotechnologie|生物技术|生物医药|ביוטכנולוגיה
CRISPR|gene editing|Genschere|Geneditierung|基因编辑|עריכה גנטית
diagnostics|diagnostic|Diagnostik|诊断|检测|אבחון
medical imaging|radiology|medizinische Bildgebung|Radiologie|医学影像|影像|הדמיה רפואית
screening|Screening|筛查|סינון|בדיקת סקר
cancer|oncology|Krebs|Onkologie|癌症|肿瘤|סרטן
antibody|Antikörper|抗体|נוגדן
vaccine|Impfstoff|疫苗|חיסון
medical device|Medizinprodukt|医疗器械|מכשור רפואי
wearable|Wearable|tragbar|可穿戴|穿戴|לביש
health monitoring|Gesundheitsüberwachung|健康监测|监测|ניטור בריאות
implant|Implantat|植入|שתל
agriculture|agritech|Landwirtschaft|农业|חקלאות
food|Lebensmittel|食品|מזון
aerospace|aviation|Luftfahrt|Raumfahrt|航空|航天|תעופה
satellite|Satellit|卫星|לוויין
petrochemical|Petrochemie|石化|פטרוכימיה
steel|Stahl|钢铁|פלדה
`)

// parseLexicon reads the lines of a lexicon.
func parseLexicon(s string) [][]string {
	var out [][]string
	for _, line := range strings.Split(s, "\n") {
		var names []string
		for _, n := range strings.Split(line, "|") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) > 1 {
			out = append(out, names)
		}
	}
	return out
}
