#!/usr/bin/env python3
"""Generate guji's sample batches, reproducibly, from rendered text.

    python scripts/make_samples.py                  # (re)write everything under samples/
    python scripts/make_samples.py --out /tmp/s     # write into another folder
    python scripts/make_samples.py --only 'demo-batch/350000-2001-0000102/*'

Writes ``demo-batch/`` (a small batch of woodblock-style rare-book leaves and one modern local
document), ``bad-batch/`` (files and items that exercise every ingest check) and ``truth/``
(ground-truth text and layout per image). See samples/README.md for what each file is.

Every image is drawn from text with one fixed font (AR PL UMing, a Ming/Song face; Debian
package fonts-arphic-uming) and fixed random seeds (one numpy Generator per file, seeded from
the file's path), so re-running writes byte-identical files. Tests read the committed files and
need no font.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import json
import math
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
FACE_TW = 2  # "AR PL UMing TW" in the collection (traditional forms)
FACE_CN = 0  # "AR PL UMing CN" (simplified forms)
REPO = Path(__file__).resolve().parent.parent

TRUTH_SCHEMA = "guji-sample-truth/1"
SKEW_CONVENTION = (
    "degrees; positive = page content rotated counter-clockwise as displayed "
    "(OpenCV getRotationMatrix2D convention, image y axis pointing down); "
    "rotating the image clockwise by skew_deg makes the page upright"
)

# ---------------------------------------------------------------------------------------------
# Rare-book leaf geometry (pixels in the master image, before skew)
FS = 48  # body character size (em square), glyph ink 44-47 px high
PITCH_Y = 54  # vertical pitch of a character cell
COL_W = 64  # column width
NCOL = 8  # columns per half-leaf   (半葉八行)
NCHR = 16  # characters per column  (行十六字)
CENTRE_W = 80  # centre column (版心) width
PAD_Y = 18  # inner frame line to first character cell
FRAME_GAP = 8  # gap between the thin inner and thick outer frame lines (雙邊)
OUTER_LW = 4  # thick outer frame line width
INNER_LW = 2  # thin inner frame line width
INNER_W = 2 * NCOL * COL_W + CENTRE_W  # 1104
INNER_H = 2 * PAD_Y + NCHR * PITCH_Y  # 900
FRAME_W = INNER_W + 2 * (FRAME_GAP + OUTER_LW)  # outer edge of the frame (版框)
FRAME_H = INNER_H + 2 * (FRAME_GAP + OUTER_LW)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 110, 140, 120  # paper around the frame
GUTTER_HALF = 90  # spread: paper between a frame and the gutter
BOOK_PPI = 120  # stored resolution of the rare-book masters
DOC_PPI = 150
NOTE_FS = FS // 2  # double-row small notes (雙行小注)
NOTE_PITCH = PITCH_Y / 2

CN_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    if n <= 10:
        return "十" if n == 10 else CN_DIGITS[n]
    if n < 20:
        return "十" + CN_DIGITS[n - 10]
    tens, ones = divmod(n, 10)
    return CN_DIGITS[tens] + "十" + (CN_DIGITS[ones] if ones else "")


# ---------------------------------------------------------------------------------------------
# Texts (public domain). Each string is a paragraph that starts a new column; leading
# ideographic spaces indent it; 【…】 is a double-row small note.

LUNYU_J1 = [
    "論語集注卷一",
    "　　　　　　　　宋朱熹集注",
    "學而第一【此為書之首篇故所記多務本之意乃入道之門積德之基學者之先務也凡十六章】",
    "子曰學而時習之不亦說乎有朋自遠方來不亦樂乎人不知而不慍不亦君子乎",
    "有子曰其為人也孝弟而好犯上者鮮矣不好犯上而好作亂者未之有也君子務本本立而道生孝弟也者其為仁之本與",
    "子曰巧言令色鮮矣仁",
    "曾子曰吾日三省吾身為人謀而不忠乎與朋友交而不信乎傳不習乎",
    "子曰道千乘之國敬事而信節用而愛人使民以時",
    "子曰弟子入則孝出則弟謹而信汎愛眾而親仁行有餘力則以學文",
    "子夏曰賢賢易色事父母能竭其力事君能致其身與朋友交言而有信雖曰未學吾必謂之學矣",
    "子曰君子不重則不威學則不固主忠信無友不如己者過則勿憚改",
    "曾子曰慎終追遠民德歸厚矣",
    "子禽問於子貢曰夫子至於是邦也必聞其政求之與抑與之與子貢曰夫子溫良恭儉讓以得之夫子之求之也其諸異乎人之求之與",
    "子曰父在觀其志父沒觀其行三年無改於父之道可謂孝矣",
    "有子曰禮之用和為貴先王之道斯為美小大由之有所不行知和而和不以禮節之亦不可行也",
    "有子曰信近於義言可復也恭近於禮遠恥辱也因不失其親亦可宗也",
    "子曰君子食無求飽居無求安敏於事而慎於言就有道而正焉可謂好學也已",
    "子貢曰貧而無諂富而無驕何如子曰可也未若貧而樂富而好禮者也子貢曰詩云如切如磋如琢如磨其斯之謂與子曰賜也始可與言詩已矣告諸往而知來者",
    "子曰不患人之不己知患不知人也",
    "為政第二",
    "子曰為政以德譬如北辰居其所而眾星共之",
    "子曰詩三百一言以蔽之曰思無邪",
    "子曰道之以政齊之以刑民免而無恥道之以德齊之以禮有恥且格",
    "子曰吾十有五而志于學三十而立四十而不惑五十而知天命六十而耳順七十而從心所欲不踰矩",
    "孟懿子問孝子曰無違樊遲御子告之曰孟孫問孝於我我對曰無違樊遲曰何謂也子曰生事之以禮死葬之以禮祭之以禮",
    "孟武伯問孝子曰父母唯其疾之憂",
    "子游問孝子曰今之孝者是謂能養至於犬馬皆能有養不敬何以別乎",
    "子夏問孝子曰色難有事弟子服其勞有酒食先生饌曾是以為孝乎",
    "子曰吾與回言終日不違如愚退而省其私亦足以發回也不愚",
    "子曰視其所以觀其所由察其所安人焉廋哉人焉廋哉",
    "子曰溫故而知新可以為師矣",
    "子曰君子不器",
    "子貢問君子子曰先行其言而後從之",
    "子曰君子周而不比小人比而不周",
    "子曰學而不思則罔思而不學則殆",
]

LUNYU_J2 = [
    "論語集注卷二",
    "八佾第三【凡二十六章通前篇末二章皆論禮樂之事】",
    "孔子謂季氏八佾舞於庭是可忍也孰不可忍也",
    "三家者以雍徹子曰相維辟公天子穆穆奚取於三家之堂",
    "子曰人而不仁如禮何人而不仁如樂何",
    "林放問禮之本子曰大哉問禮與其奢也寧儉喪與其易也寧戚",
    "子曰夷狄之有君不如諸夏之亡也",
    "季氏旅於泰山子謂冉有曰女弗能救與對曰不能子曰嗚呼曾謂泰山不如林放乎",
    "子曰君子無所爭必也射乎揖讓而升下而飲其爭也君子",
    "子夏問曰巧笑倩兮美目盼兮素以為絢兮何謂也子曰繪事後素曰禮後乎子曰起予者商也始可與言詩已矣",
    "子曰夏禮吾能言之杞不足徵也殷禮吾能言之宋不足徵也文獻不足故也足則吾能徵之矣",
    "子曰禘自既灌而往者吾不欲觀之矣",
    "或問禘之說子曰不知也知其說者之於天下也其如示諸斯乎指其掌",
    "祭如在祭神如神在子曰吾不與祭如不祭",
    "王孫賈問曰與其媚於奧寧媚於竈何謂也子曰不然獲罪於天無所禱也",
    "子曰周監於二代郁郁乎文哉吾從周",
]

LUNYU_J3 = [
    "論語集注卷三",
    "公冶長第五",
    "子謂公冶長可妻也雖在縲絏之中非其罪也以其子妻之",
    "子謂南容邦有道不廢邦無道免於刑戮以其兄之子妻之",
    "子謂子賤君子哉若人魯無君子者斯焉取斯",
    "子貢問曰賜也何如子曰女器也曰何器也曰瑚璉也",
    "或曰雍也仁而不佞子曰焉用佞禦人以口給屢憎於人不知其仁焉用佞",
    "子使漆雕開仕對曰吾斯之未能信子說",
    "子曰道不行乘桴浮于海從我者其由與子路聞之喜子曰由也好勇過我無所取材",
    "孟武伯問子路仁乎子曰不知也又問子曰由也千乘之國可使治其賦也不知其仁也求也何如子曰求也千室之邑百乘之家可使為之宰也不知其仁也赤也何如子曰赤也束帶立於朝可使與賓客言也不知其仁也",
    "子謂子貢曰女與回也孰愈對曰賜也何敢望回回也聞一以知十賜也聞一以知二子曰弗如也吾與女弗如也",
    "宰予晝寢子曰朽木不可雕也糞土之牆不可杇也於予與何誅子曰始吾於人也聽其言而信其行今吾於人也聽其言而觀其行於予與改是",
    "子曰吾未見剛者或對曰申棖子曰棖也慾焉得剛",
    "子貢曰我不欲人之加諸我也吾亦欲無加諸人子曰賜也非爾所及也",
    "子貢曰夫子之文章可得而聞也夫子之言性與天道不可得而聞也",
    "子路有聞未之能行唯恐有聞",
    "子貢問曰孔文子何以謂之文也子曰敏而好學不恥下問是以謂之文也",
    "子謂子產有君子之道四焉其行己也恭其事上也敬其養民也惠其使民也義",
    "子曰晏平仲善與人交久而敬之",
    "子曰臧文仲居蔡山節藻梲何如其知也",
    "子張問曰令尹子文三仕為令尹無喜色三已之無慍色舊令尹之政必以告新令尹何如子曰忠矣曰仁矣乎曰未知焉得仁"
    "崔子弒齊君陳文子有馬十乘棄而違之至於他邦則曰猶吾大夫崔子也違之之一邦則又曰猶吾大夫崔子也違之何如子曰清矣"
    "曰仁矣乎曰未知焉得仁",
    "季文子三思而後行子聞之曰再斯可矣",
    "子曰甯武子邦有道則知邦無道則愚其知可及也其愚不可及也",
    "子在陳曰歸與歸與吾黨之小子狂簡斐然成章不知所以裁之",
    "子曰伯夷叔齊不念舊惡怨是用希",
    "子曰孰謂微生高直或乞醯焉乞諸其鄰而與之",
    "子曰巧言令色足恭左丘明恥之丘亦恥之匿怨而友其人左丘明恥之丘亦恥之",
    "顏淵季路侍子曰盍各言爾志子路曰願車馬衣輕裘與朋友共敝之而無憾顏淵曰願無伐善無施勞子路曰願聞子之志"
    "子曰老者安之朋友信之少者懷之",
    "子曰已矣乎吾未見能見其過而內自訟者也",
    "子曰十室之邑必有忠信如丘者焉不如丘之好學也",
]

LAOZI = [
    "老子道德經卷上",
    "道經【河上公章句本分為八十一章此上篇凡三十七章】",
    "道可道非常道名可名非常名無名天地之始有名萬物之母故常無欲以觀其妙常有欲以觀其徼此兩者同出而異名同謂之玄玄之又玄眾妙之門",
    "天下皆知美之為美斯惡已皆知善之為善斯不善已故有無相生難易相成長短相形高下相傾音聲相和前後相隨是以聖人處無為之事行不言之教萬物作焉而不辭生而不有為而不恃功成而弗居夫唯弗居是以不去",
    "不尚賢使民不爭不貴難得之貨使民不為盜不見可欲使民心不亂是以聖人之治虛其心實其腹弱其志強其骨常使民無知無欲使夫智者不敢為也為無為則無不治",
    "道沖而用之或不盈淵兮似萬物之宗挫其銳解其紛和其光同其塵湛兮似或存吾不知誰之子象帝之先",
    "天地不仁以萬物為芻狗聖人不仁以百姓為芻狗天地之間其猶橐籥乎虛而不屈動而愈出多言數窮不如守中",
    "谷神不死是謂玄牝玄牝之門是謂天地根綿綿若存用之不勤",
    "天長地久天地所以能長且久者以其不自生故能長生是以聖人後其身而身先外其身而身存非以其無私邪故能成其私",
    "上善若水水善利萬物而不爭處眾人之所惡故幾於道居善地心善淵與善仁言善信正善治事善能動善時夫唯不爭故無尤",
    "持而盈之不如其已揣而銳之不可長保金玉滿堂莫之能守富貴而驕自遺其咎功遂身退天之道",
    "載營魄抱一能無離乎專氣致柔能嬰兒乎滌除玄覽能無疵乎愛民治國能無知乎天門開闔能為雌乎明白四達能無為乎生之畜之生而不有為而不恃長而不宰是謂玄德",
    "三十輻共一轂當其無有車之用埏埴以為器當其無有器之用鑿戶牖以為室當其無有室之用故有之以為利無之以為用",
]

QIANZIWEN = [
    "千字文",
    "　　　　員外散騎侍郎周興嗣次韻",
    "天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結為霜金生麗水玉出崑岡"
    "劍號巨闕珠稱夜光果珍李柰菜重芥薑海鹹河淡鱗潛羽翔龍師火帝鳥官人皇始制文字乃服衣裳推位讓國有虞陶唐"
    "弔民伐罪周發殷湯坐朝問道垂拱平章愛育黎首臣伏戎羌遐邇壹體率賓歸王鳴鳳在竹白駒食場化被草木賴及萬方"
    "蓋此身髮四大五常恭惟鞠養豈敢毀傷女慕貞絜男效才良知過必改得能莫忘罔談彼短靡恃己長信使可覆器欲難量",
]

NOTICE = {
    "header": "示例县人民政府",
    "title": "关于做好春耕生产工作的通知",
    "docno": "（五三）府农字第十二号",
    "body": [
        "各区、乡人民政府：",
        "　　春耕生产即将开始。为了保证今年农业增产，特通知如下：",
        "　　一、各乡应在三月十五日以前召开农民代表会议，传达县农业生产会议的精神，订出全乡的生产计划。",
        "　　二、积极组织互助组，做好耕牛、农具和种子的调剂工作，帮助困难户解决生产中的问题。",
        "　　三、兴修水利，修好塘坝和水渠，防止春旱。",
        "　　四、做好病虫害防治和积肥工作。",
        "　　以上各项，希即遵照执行，并将执行情况于四月底以前报县。",
    ],
    "sign": ["县长　李　明", "一九五三年三月五日"],
}

# ---------------------------------------------------------------------------------------------
# Fonts


_FONTS: dict[tuple[int, int], ImageFont.FreeTypeFont] = {}


def font(size: int, face: int = FACE_TW) -> ImageFont.FreeTypeFont:
    key = (size, face)
    if key not in _FONTS:
        if not FONT_PATH.exists():
            sys.exit(
                f"make_samples: font {FONT_PATH} not found. Install the Debian package "
                "fonts-arphic-uming (scripts/install-system.sh); the samples are drawn with it."
            )
        _FONTS[key] = ImageFont.truetype(str(FONT_PATH), size, index=face)
    return _FONTS[key]


_NOTDEF: dict[int, bytes] = {}


def has_glyph(ch: str, face: int) -> bool:
    f = font(32, face)
    if face not in _NOTDEF:
        _NOTDEF[face] = bytes(f.getmask("\U000f0000"))
    if ch in "　 ":
        return True
    return bytes(f.getmask(ch)) != _NOTDEF[face]


def check_glyphs(texts: list[str], face: int) -> None:
    missing = sorted({c for t in texts for c in t if c not in "【】" and not has_glyph(c, face)})
    if missing:
        sys.exit(f"make_samples: font lacks glyphs for {''.join(missing)!r}; change the text")


# ---------------------------------------------------------------------------------------------
# Layout of vertical text into columns


@dataclass
class Seg:
    kind: str  # main | note
    text: str  # main: the characters; note: all note characters of this column
    start: float  # first cell (in full cells from the column top)
    right: str = ""  # note: right sub-column (read first)
    left: str = ""


@dataclass
class Col:
    segs: list[Seg] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segs)

    @property
    def end(self) -> float:
        if not self.segs:
            return 0.0
        s = self.segs[-1]
        if s.kind == "main":
            return s.start + len(s.text)
        return s.start + math.ceil(len(s.text) / 2) / 2


def parse_para(p: str) -> tuple[int, list[tuple[str, str]]]:
    indent = len(p) - len(p.lstrip("　"))
    p = p.lstrip("　")
    parts: list[tuple[str, str]] = []
    while p:
        if p.startswith("【"):
            end = p.index("】")
            parts.append(("note", p[1:end]))
            p = p[end + 1 :]
        else:
            end = p.find("【")
            end = len(p) if end < 0 else end
            parts.append(("main", p[:end]))
            p = p[end:]
    return indent, parts


def flow(paragraphs: list[str]) -> list[Col]:
    """Flow paragraphs into columns of NCHR cells; each paragraph starts a new column."""
    cols: list[Col] = []
    for para in paragraphs:
        indent, parts = parse_para(para)
        col = Col()
        pos = float(indent)
        for kind, text in parts:
            while text:
                room = NCHR - pos
                if room <= 0:
                    cols.append(col)
                    col, pos = Col(), 0.0
                    continue
                if kind == "main":
                    n = int(room)
                    chunk, text = text[:n], text[n:]
                    col.segs.append(Seg("main", chunk, pos))
                    pos += len(chunk)
                else:
                    halves = int(room * 2)  # half cells available per sub-column
                    chunk, text = text[: 2 * halves], text[2 * halves :]
                    k = math.ceil(len(chunk) / 2)
                    col.segs.append(Seg("note", chunk, pos, right=chunk[:k], left=chunk[k:]))
                    pos += k / 2
                    pos = math.ceil(pos * 2) / 2
        cols.append(col)
    return cols


# ---------------------------------------------------------------------------------------------
# Drawing and truth


def box_of(x0: float, y0: float, x1: float, y1: float) -> list[int]:
    x0, y0 = math.floor(x0), math.floor(y0)
    return [x0, y0, math.ceil(x1) - x0, math.ceil(y1) - y0]


class Warp:
    """Maps pre-skew canvas points to master pixels (rotation about the image centre)."""

    def __init__(self, w: int, h: int, angle: float):
        self.angle = angle
        self.m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)

    def pt(self, x: float, y: float) -> list[float]:
        m = self.m
        return [m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]]

    def quad(self, b: list[float]) -> list[list[float]]:
        x, y, w, h = b
        return [self.pt(x, y), self.pt(x + w, y), self.pt(x + w, y + h), self.pt(x, y + h)]

    def box(self, b: list[float]) -> list[int]:
        q = self.quad(b)
        xs = [p[0] for p in q]
        ys = [p[1] for p in q]
        return box_of(min(xs), min(ys), max(xs), max(ys))

    def rquad(self, b: list[float]) -> list[list[float]]:
        return [[round(p[0], 1), round(p[1], 1)] for p in self.quad(b)]


@dataclass
class LeafSpec:
    title: str  # short title in the centre column
    juan: str  # 卷一
    leaf_no: int
    cols: list[Col]  # up to 2*NCOL, reading order
    double_all: bool = True  # 四周雙邊 (else 左右雙邊)
    rules: bool = True  # column rules


def draw_leaf(ink: ImageDraw.ImageDraw, fx: int, fy: int, spec: LeafSpec) -> dict:
    """Draw one leaf whose frame's outer top-left corner is (fx, fy). Returns pre-skew truth."""
    o = FRAME_GAP + OUTER_LW
    x0, y0 = fx + o, fy + o  # inner frame rectangle
    x1, y1 = x0 + INNER_W, y0 + INNER_H
    # frame: thin inner line, thick outer line (all four sides or left/right only)
    ink.rectangle([x0 - INNER_LW, y0 - INNER_LW, x1 + INNER_LW - 1, y1 + INNER_LW - 1], outline=235, width=INNER_LW)
    if spec.double_all:
        ink.rectangle([fx, fy, fx + FRAME_W - 1, fy + FRAME_H - 1], outline=245, width=OUTER_LW)
    else:
        ink.rectangle([fx, fy, fx + OUTER_LW - 1, fy + FRAME_H - 1], fill=245)
        ink.rectangle([fx + FRAME_W - OUTER_LW, fy, fx + FRAME_W - 1, fy + FRAME_H - 1], fill=245)
        ink.rectangle([fx, y0 - INNER_LW - 2, fx + FRAME_W - 1, y0 - 1], fill=245)
        ink.rectangle([fx, y1, fx + FRAME_W - 1, y1 + INNER_LW + 1], fill=245)
    cx = x0 + NCOL * COL_W  # centre column left edge
    ink.rectangle([cx - 1, y0, cx + 1, y1], fill=230)
    ink.rectangle([cx + CENTRE_W - 1, y0, cx + CENTRE_W + 1, y1], fill=230)
    if spec.rules:
        for i in range(1, NCOL):
            for xx in (x0 + i * COL_W, cx + CENTRE_W + i * COL_W):
                ink.line([xx, y0, xx, y1], fill=150, width=1)

    # centre column (版心): 白口, fishtail, title, juan, leaf number
    ft_top = y0 + 110
    ink.line([cx + 2, ft_top - 6, cx + CENTRE_W - 2, ft_top - 6], fill=220, width=2)
    ink.polygon(
        [(cx + 2, ft_top), (cx + CENTRE_W - 2, ft_top), (cx + CENTRE_W - 2, ft_top + 42),
         (cx + CENTRE_W // 2, ft_top + 26), (cx + 2, ft_top + 42)],
        fill=250,
    )
    fishtail = box_of(cx + 2, ft_top - 7, cx + CENTRE_W - 2, ft_top + 42)
    cchars = []
    y = ft_top + 62
    for size, text in ((36, spec.title), (30, spec.juan)):
        for ch in text:
            ex = cx + (CENTRE_W - size) / 2
            ink.text((ex, y), ch, font=font(size), fill=255)
            cchars.append({"text": ch, "box": [ex, y, size, size]})
            y += size + 6
        y += 24
    leaf_label = cn_number(spec.leaf_no)
    y = y1 - 90 - 34 * len(leaf_label)
    for ch in leaf_label:
        ex = cx + (CENTRE_W - 30) / 2
        ink.text((ex, y), ch, font=font(30), fill=255)
        cchars.append({"text": ch, "box": [ex, y, 30, 30]})
        y += 34
    centre = {
        "box": [cx, y0, CENTRE_W, INNER_H],
        "text": spec.title + spec.juan + leaf_label,
        "title": spec.title,
        "juan": spec.juan,
        "leaf": spec.leaf_no,
        "leaf_label": leaf_label,
        "fishtail_box": fishtail,
        "chars": cchars,
    }

    columns = []
    for slot, col in enumerate(spec.cols, start=1):
        if not col.segs:
            continue
        half = "right" if slot <= NCOL else "left"
        k = (slot - 1) % NCOL
        colx = (x1 - (k + 1) * COL_W) if half == "right" else (cx - (k + 1) * COL_W)
        top = y0 + PAD_Y
        segs, chars = [], []
        for s in col.segs:
            if s.kind == "main":
                for i, ch in enumerate(s.text):
                    ex, ey = colx + (COL_W - FS) / 2, top + (s.start + i) * PITCH_Y + (PITCH_Y - FS) / 2
                    ink.text((ex, ey), ch, font=font(FS), fill=255, stroke_width=1, stroke_fill=255)
                    chars.append({"text": ch, "box": [ex, ey, FS, FS]})
                segs.append({"kind": "main", "text": s.text,
                             "box": [colx, top + s.start * PITCH_Y, COL_W, len(s.text) * PITCH_Y]})
            else:
                sub_w = COL_W / 2
                for side, sub in (("note-right", s.right), ("note-left", s.left)):
                    sx = colx + sub_w if side == "note-right" else colx
                    for i, ch in enumerate(sub):
                        ex = sx + (sub_w - NOTE_FS) / 2
                        ey = top + s.start * PITCH_Y + i * NOTE_PITCH + (NOTE_PITCH - NOTE_FS) / 2
                        ink.text((ex, ey), ch, font=font(NOTE_FS), fill=255)
                        chars.append({"text": ch, "box": [ex, ey, NOTE_FS, NOTE_FS], "note": side})
                    segs.append({"kind": side, "text": sub,
                                 "box": [sx, top + s.start * PITCH_Y, sub_w, len(sub) * NOTE_PITCH]})
        start = col.segs[0].start
        columns.append({
            "slot": slot,
            "half": half,
            "box": [colx, top + start * PITCH_Y, COL_W, (col.end - start) * PITCH_Y],
            "cells": col.end - start,
            "text": col.text,
            "segments": segs,
            "chars": chars,
        })
    return {
        "frame_box": [fx, fy, FRAME_W, FRAME_H],
        "inner_frame_box": [x0, y0, INNER_W, INNER_H],
        "centre_column": centre,
        "columns": columns,
    }


def warp_leaf(leaf: dict, w: Warp) -> dict:
    out = {
        "frame_box": w.box(leaf["frame_box"]),
        "frame_quad": w.rquad(leaf["frame_box"]),
        "inner_frame_box": w.box(leaf["inner_frame_box"]),
    }
    c = dict(leaf["centre_column"])
    c["box"] = w.box(c["box"])
    c["fishtail_box"] = w.box(c["fishtail_box"])
    c["chars"] = [{"text": ch["text"], "box": w.box(ch["box"])} for ch in c["chars"]]
    out["centre_column"] = c
    cols = []
    for col in leaf["columns"]:
        col = dict(col)
        col["box_unskewed"] = box_of(col["box"][0], col["box"][1], col["box"][0] + col["box"][2], col["box"][1] + col["box"][3])
        col["box"] = w.box(col["box"])
        col["segments"] = [dict(s, box=w.box(s["box"])) for s in col["segments"]]
        col["chars"] = [dict(ch, box=w.box(ch["box"])) for ch in col["chars"]]
        cols.append(col)
    out["columns"] = cols
    return out


# ---------------------------------------------------------------------------------------------
# Paper, ink and scanner simulation


def low_freq(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    g = rng.normal(0, 1, (max(2, cells * h // max(w, h) + 2), max(2, cells * w // max(w, h) + 2)))
    return cv2.resize(g.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def render(
    rng: np.random.Generator,
    size: tuple[int, int],
    paper_box: list[int],
    ink_l: Image.Image,
    paper_rgb: tuple[int, int, int],
    ink_rgb: tuple[int, int, int] = (34, 27, 24),
    red_l: Image.Image | None = None,
    angle: float = 0.0,
    gutter_x: int | None = None,
    noise: float = 3.5,
    fibres: int = 500,
    lighting: float = 0.05,
    texture: float = 2.5,
) -> np.ndarray:
    w, h = size
    px, py, pw, ph = paper_box
    # paper with uneven lighting, fibres, specks
    light = 1.0 + lighting * low_freq(rng, h, w, 4) / 1.5
    light *= (1.0 - 0.04 * np.linspace(-1, 1, w, dtype=np.float32))[None, :]
    paper = np.empty((h, w, 3), np.float32)
    for c in range(3):
        paper[..., c] = paper_rgb[c] * light
    tex = low_freq(rng, h, w, 160) * texture
    paper += tex[..., None]
    fib = Image.new("L", (w, h), 0)
    fd = ImageDraw.Draw(fib)
    for _ in range(fibres):
        x, y = rng.uniform(px, px + pw), rng.uniform(py, py + ph)
        a = rng.uniform(0, math.pi)
        ln = rng.uniform(6, 30)
        fd.line([x, y, x + ln * math.cos(a), y + ln * math.sin(a)], fill=int(rng.integers(40, 110)), width=1)
    for _ in range(fibres // 3):
        x, y = rng.uniform(px, px + pw), rng.uniform(py, py + ph)
        r = rng.uniform(0.6, 2.0)
        fd.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(90, 200)))
    fibf = cv2.GaussianBlur(np.asarray(fib, np.float32) / 255.0, (0, 0), 0.7)
    paper *= (1.0 - 0.25 * fibf)[..., None]
    if gutter_x is not None:
        xs = np.arange(w, dtype=np.float32)
        shade = 1.0 - 0.38 * np.exp(-(((xs - gutter_x) / 38.0) ** 2)) - 0.10 * np.exp(-(((xs - gutter_x) / 120.0) ** 2))
        paper *= shade[None, :, None]
    # ink: slight blur, uneven density, grain
    a = np.asarray(ink_l, np.float32) / 255.0
    a = cv2.GaussianBlur(a, (0, 0), 0.75)
    a *= np.clip(0.86 + 0.10 * low_freq(rng, h, w, 40), 0.6, 1.0)
    a *= 1.0 - 0.18 * rng.random((h, w), dtype=np.float32)
    a = np.clip(a * 1.05, 0, 0.95)[..., None]
    img = paper * (1 - a) + np.array(ink_rgb, np.float32) * a
    if red_l is not None:
        r = cv2.GaussianBlur(np.asarray(red_l, np.float32) / 255.0, (0, 0), 0.7)[..., None] * 0.9
        img = img * (1 - r) + np.array((196, 38, 36), np.float32) * r
    # paper mask: paper on a dark scanner bed
    mask = np.zeros((h, w), np.float32)
    mask[py : py + ph, px : px + pw] = 1.0
    if angle:
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    bed = np.empty((h, w, 3), np.float32)
    bed[...] = np.array((38, 38, 42), np.float32)
    bed += (6 * low_freq(rng, h, w, 6))[..., None]
    # soft shadow just outside the paper edge
    shadow = cv2.GaussianBlur(mask, (0, 0), 6)
    bed *= (1 - 0.5 * shadow)[..., None]
    mask = mask[..., None]
    img = img * mask + bed * (1 - mask)
    img += rng.normal(0, noise, (h, w, 3)).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Saving (explicit options, no timestamps: byte-identical on re-run)


def encode(arr: np.ndarray | Image.Image, fmt: str, ppi: int, **kw) -> bytes:
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    buf = io.BytesIO()
    if fmt == "JPEG":
        opts = dict(quality=kw.get("quality", 88), subsampling=kw.get("subsampling", 2),
                    optimize=False, progressive=False, dpi=(ppi, ppi))
        if im.mode == "CMYK":
            opts.pop("subsampling")
        im.save(buf, "JPEG", **opts)
    elif fmt == "TIFF":
        # horizontal-differencing predictor (317 = 2) keeps the lossless masters small
        info = {317: 2} if im.mode in ("RGB", "L") else {}
        im.save(buf, "TIFF", compression=kw.get("compression", "tiff_adobe_deflate"), dpi=(ppi, ppi), tiffinfo=info)
    elif fmt == "PNG":
        im.save(buf, "PNG", optimize=False, compress_level=9, dpi=(ppi, ppi))
    else:
        raise ValueError(fmt)
    data = buf.getvalue()
    return zero_tiff_pad(data) if fmt == "TIFF" else data


def zero_tiff_pad(data: bytes) -> bytes:
    """libtiff leaves the word-alignment pad byte between the last strip and the IFD
    uninitialised (seen with 16-bit deflate), which breaks byte-identical re-runs: zero it."""
    im = Image.open(io.BytesIO(data))
    ends = [o + n for o, n in zip(im.tag_v2.get(273, ()), im.tag_v2.get(279, ()))]
    order = "<" if data[:2] == b"II" else ">"
    ifd = int.from_bytes(data[4:8], "little" if order == "<" else "big")
    if ends and max(ends) + 1 == ifd:
        out = bytearray(data)
        out[max(ends)] = 0
        return bytes(out)
    return data


def seed_of(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Page builders


@dataclass
class BookPage:
    rel: str  # path relative to the batch folder
    leaves: list[LeafSpec]
    fmt: str = "JPEG"
    angle: float = 0.0
    bed: int = 0  # scanner-bed border in pixels (0 = cropped to the paper)
    paper_rgb: tuple[int, int, int] = (224, 207, 168)
    compression: str = "tiff_adobe_deflate"
    noise: float = 3.5
    quality: int = 88  # JPEG quality
    scale: float = 1.0  # < 1: the rendered image is reduced (leaf-batch: small pages); truth geometry is not scaled


def build_book_page(page: BookPage, batch: str) -> tuple[bytes, dict, str]:
    rng = np.random.default_rng(seed_of(f"{batch}/{page.rel}"))
    n = len(page.leaves)
    spread = n == 2
    paper_w = 2 * MARGIN_X + n * FRAME_W + (2 * GUTTER_HALF if spread else 0)
    paper_h = MARGIN_TOP + FRAME_H + MARGIN_BOTTOM
    w, h = paper_w + 2 * page.bed, paper_h + 2 * page.bed
    px, py = page.bed, page.bed
    ink_l = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(ink_l)
    fy = py + MARGIN_TOP
    raw = []
    gutter_x = None
    if spread:
        gutter_x = px + paper_w // 2
        # right-hand leaf first in reading order
        raw.append(("right", draw_leaf(d, gutter_x + GUTTER_HALF, fy, page.leaves[0])))
        raw.append(("left", draw_leaf(d, gutter_x - GUTTER_HALF - FRAME_W, fy, page.leaves[1])))
    else:
        raw.append(("full", draw_leaf(d, px + MARGIN_X, fy, page.leaves[0])))
    arr = render(rng, (w, h), [px, py, paper_w, paper_h], ink_l, page.paper_rgb,
                 angle=page.angle, gutter_x=gutter_x, noise=page.noise)
    if page.scale != 1.0:
        arr = cv2.resize(arr, (round(w * page.scale), round(h * page.scale)), interpolation=cv2.INTER_AREA)
    data = encode(arr, page.fmt, round(BOOK_PPI * page.scale) if page.scale != 1.0 else BOOK_PPI,
                  compression=page.compression, quality=page.quality)
    warp = Warp(w, h, page.angle)
    leaves = []
    for order, (side, leaf) in enumerate(raw, start=1):
        lw = warp_leaf(leaf, warp)
        spec = page.leaves[order - 1]
        lw = {"order": order, "side": side, "juan": spec.juan, "leaf": spec.leaf_no, **lw}
        leaves.append(lw)
    pbox = warp.box([px, py, paper_w, paper_h])
    pbox = clip_box(pbox, w, h)
    lines = [c["text"] for lf in leaves for c in lf["columns"]]
    truth = {
        "schema": TRUTH_SCHEMA,
        "file": page.rel,
        "profile": "rare-book",
        "format": page.fmt,
        "image_size": [w, h],
        "ppi": BOOK_PPI,
        "skew_deg": page.angle,
        "skew_convention": SKEW_CONVENTION,
        "scanner_bed_px": page.bed,
        "paper_box": pbox,
        "paper_quad": warp.rquad([px, py, paper_w, paper_h]),
        "spread": spread,
        "gutter_x": None if gutter_x is None else round(warp.pt(gutter_x, py + paper_h / 2)[0]),
        "layout": {
            "direction": "vertical-rtl",
            "columns_per_half_leaf": NCOL,
            "chars_per_column": NCHR,
            "char_px": FS,
            "pitch_px": PITCH_Y,
            "column_width_px": COL_W,
            "note_char_px": NOTE_FS,
            "frame_px": [FRAME_W, FRAME_H],
            "half_leaf_frame_px": [FRAME_W // 2, FRAME_H],
            "frame_cm": [round(FRAME_W / BOOK_PPI * 2.54, 1), round(FRAME_H / BOOK_PPI * 2.54, 1)],
            "half_leaf_frame_cm": [round(FRAME_W / 2 / BOOK_PPI * 2.54, 1), round(FRAME_H / BOOK_PPI * 2.54, 1)],
        },
        "leaves": leaves,
        "text": "\n".join(lines),
    }
    return data, truth, "\n".join(lines) + "\n"


def clip_box(b: list[int], w: int, h: int) -> list[int]:
    x0, y0 = max(0, b[0]), max(0, b[1])
    x1, y1 = min(w, b[0] + b[2]), min(h, b[1] + b[3])
    return [x0, y0, x1 - x0, y1 - y0]


def build_notice(rel: str, batch: str, fmt: str = "PNG") -> tuple[bytes, dict, str]:
    rng = np.random.default_rng(seed_of(f"{batch}/{rel}"))
    w, h = 1275, 1754  # A4-ish at 150 ppi
    ink_l = Image.new("L", (w, h), 0)
    red_l = Image.new("L", (w, h), 0)
    d, r = ImageDraw.Draw(ink_l), ImageDraw.Draw(red_l)
    lines = []
    left, right = 130, w - 130
    pitch_x = 46
    fb = font(44, FACE_CN)

    def put(draw, text, size, x, y, kind, gap=None):
        f = font(size, FACE_CN)
        gap = size + 2 if gap is None else gap
        chars = []
        x_ = x
        lead = len(text) - len(text.lstrip("　"))
        x_ += lead * gap
        for ch in text.lstrip("　"):
            draw.text((x_, y), ch, font=f, fill=255)
            chars.append({"text": ch, "box": box_of(x_, y, x_ + size, y + size)})
            x_ += gap
        t = text.lstrip("　")
        lines.append({"kind": kind, "text": t, "box": box_of(x + lead * gap, y, x_ - (gap - size), y + size),
                      "char_px": size, "chars": chars})

    y = 150
    hdr = NOTICE["header"]
    hw = len(hdr) * 96 - 8
    put(r, hdr, 88, (w - hw) // 2, y, "header", gap=96)
    y += 88 + 36
    r.rectangle([left, y, right, y + 4], fill=255)
    r.rectangle([left, y + 10, right, y + 11], fill=255)
    y += 60
    put(d, NOTICE["docno"], 40, (w - len(NOTICE["docno"]) * 42) // 2, y, "docno", gap=42)
    y += 40 + 50
    t = NOTICE["title"]
    put(d, t, 52, (w - len(t) * 56) // 2, y, "title", gap=56)
    y += 52 + 56
    per_line = (right - left) // pitch_x
    for para in NOTICE["body"]:
        rest = para
        first = True
        while rest:
            chunk, rest = rest[:per_line], rest[per_line:]
            # keep closing punctuation off the start of a line (禁则)
            while rest and rest[0] in "，。、：；）":
                chunk, rest = chunk + rest[0], rest[1:]
            put(d, chunk, 44, left, y, "body", gap=pitch_x)
            y += 76
            first = False
    y += 60
    for s in NOTICE["sign"]:
        put(d, s, 44, right - len(s) * pitch_x, y, "signature", gap=pitch_x)
        y += 76
    del fb
    arr = render(rng, (w, h), [0, 0, w, h], ink_l, (238, 235, 226), ink_rgb=(30, 30, 34), red_l=red_l,
                 noise=0.45, fibres=120, lighting=0.025, texture=0.6)
    data = encode(arr, fmt, DOC_PPI)
    truth = {
        "schema": TRUTH_SCHEMA,
        "file": rel,
        "profile": "local-document",
        "format": fmt,
        "image_size": [w, h],
        "ppi": DOC_PPI,
        "skew_deg": 0.0,
        "skew_convention": SKEW_CONVENTION,
        "scanner_bed_px": 0,
        "paper_box": [0, 0, w, h],
        "spread": False,
        "gutter_x": None,
        "layout": {"direction": "horizontal-ltr", "body_char_px": 44, "line_pitch_px": 76},
        "lines": lines,
        "text": "\n".join(ln["text"] for ln in lines),
    }
    return data, truth, truth["text"] + "\n"


# ---------------------------------------------------------------------------------------------
# The demo batch


def leaves_for(title: str, juan: str, paras: list[str], n_leaves: int, **kw) -> list[LeafSpec]:
    """Lay a juan's text out on n leaves (text beyond the last leaf is cut: samples are excerpts)."""
    cols = flow(paras)
    per = 2 * NCOL
    out = []
    for i in range(n_leaves):
        out.append(LeafSpec(title, juan, i + 1, cols[i * per : (i + 1) * per], **kw))
    return out


ITEM_A = "350000-2001-0000101"
ITEM_B = "350000-2001-0000102"
ITEM_C = "350000-2001-0000103"
ITEM_DF = "DF-0001"


def demo_pages() -> list[BookPage]:
    j1 = leaves_for("論語", "卷一", LUNYU_J1, 4)
    j2 = leaves_for("論語", "卷二", LUNYU_J2, 2)
    j3 = leaves_for("論語", "卷三", LUNYU_J3, 4)
    lz = leaves_for("道德經", "卷上", LAOZI, 3, double_all=False)
    qz = leaves_for("千字文", "", QIANZIWEN, 1, rules=False)
    pa = (224, 207, 168)
    pb = (216, 196, 156)
    pc = (229, 214, 178)
    return [
        BookPage(f"{ITEM_A}/v01/0001.jpg", [j1[0]], bed=48, paper_rgb=pa),
        BookPage(f"{ITEM_A}/v01/0002.jpg", [j1[1], j1[2]], bed=48, paper_rgb=pa),
        BookPage(f"{ITEM_A}/v01/0003.tif", [j1[3]], fmt="TIFF", paper_rgb=pa, noise=0.8),
        BookPage(f"{ITEM_A}/v01/0004.jpg", [j2[0]], bed=64, angle=2.0, paper_rgb=pa),
        BookPage(f"{ITEM_A}/v01/0005.jpg", [j2[1]], paper_rgb=pa),
        BookPage(f"{ITEM_A}/v02/0001.jpg", [j3[0]], bed=48, paper_rgb=pa),
        BookPage(f"{ITEM_A}/v02/0002.jpg", [j3[1]], paper_rgb=pa),
        BookPage(f"{ITEM_A}/v02/0003.jpg", [j3[2]], bed=48, paper_rgb=pa),
        BookPage(f"{ITEM_A}/v02/0004.jpg", [j3[3]], paper_rgb=pa),
        BookPage(f"{ITEM_B}/0001.jpg", [lz[0]], bed=48, paper_rgb=pb),
        BookPage(f"{ITEM_B}/0002.jpg", [lz[1]], bed=64, angle=-1.3, paper_rgb=pb),
        BookPage(f"{ITEM_B}/0003.tif", [lz[2]], fmt="TIFF", compression="tiff_lzw", paper_rgb=pb, noise=0.8),
        BookPage(f"{ITEM_C}/0001.jpg", [qz[0]], bed=48, paper_rgb=pc),
    ]


# the [batch] keys both sample batches share (after id and institution)
BATCH_COMMON = """\
institution_code = "350000-2001"
operator = "王小明"
capture_device = "Phase One iXG 100MP (simulated)"
rights = "http://creativecommons.org/licenses/by-nc-sa/4.0/"
access = "public"
profile = "rare-book"
sheet = "records.csv"
"""

BATCH_TOML = """\
# Demo batch generated by scripts/make_samples.py (see samples/README.md).
[batch]
id = "demo-2026-11"
institution = "示例省圖書館（福建省圖書館普查單位代碼 350000-2001，示例數據）"
""" + BATCH_COMMON + """
[ingest]
max_pixels = 600000000

[iiif]
base_url = "http://127.0.0.1:8000/"
"""

SHEET_FIELDS = ["普查编号", "索书号", "分类", "题名卷数", "著者", "版本", "批校题跋", "版式", "装帧", "册数",
                "存卷", "尺寸", "钤印", "定级", "破损级别", "附注", "本地编号", "文献类型", "访问级别"]


def frame_size_text() -> str:
    hgt = FRAME_H / BOOK_PPI * 2.54
    wid = FRAME_W / 2 / BOOK_PPI * 2.54
    return f"匡高{hgt:.1f}厘米，廣{wid:.1f}厘米"


def demo_records() -> list[dict[str, str]]:
    size = frame_size_text()
    return [
        {"普查编号": ITEM_A, "索书号": "善經0123", "分类": "經部/四書類/論語之屬", "题名卷数": "論語集注十卷",
         "著者": "（宋）朱熹撰", "版本": "清乾隆四十年（1775）刻本", "批校题跋": "",
         "版式": "半葉八行行十六字，小字雙行同，白口，四周雙邊，單魚尾", "装帧": "綫裝", "册数": "2册",
         "存卷": "存三卷（一至三）", "尺寸": size, "钤印": "有“示例省圖書館藏書印”印", "定级": "三級乙等",
         "破损级别": "二級", "附注": "示例數據：存卷一至三，卷三缺末葉。", "本地编号": "", "文献类型": "古籍",
         "访问级别": "公开"},
        {"普查编号": ITEM_B, "索书号": "善子0045", "分类": "子部/道家類", "题名卷数": "老子道德經二卷",
         "著者": "（春秋）李耳撰", "版本": "清光緒二年（1876）浙江書局刻本", "批校题跋": "",
         "版式": "半葉八行行十六字，小字雙行同，白口，左右雙邊，單魚尾", "装帧": "綫裝", "册数": "1册",
         "存卷": "存一卷（上）", "尺寸": size, "钤印": "", "定级": "三級丙等", "破损级别": "三級",
         "附注": "示例數據。", "本地编号": "", "文献类型": "古籍", "访问级别": "公开"},
        {"普查编号": ITEM_C, "索书号": "善集0007", "分类": "經部/小學類/訓詁之屬", "题名卷数": "千字文一卷",
         "著者": "（南朝梁）周興嗣撰", "版本": "清刻本", "批校题跋": "佚名朱筆圈點",
         "版式": "半葉八行行十六字，白口，四周雙邊，單魚尾", "装帧": "綫裝", "册数": "1册", "存卷": "",
         "尺寸": size, "钤印": "", "定级": "", "破损级别": "一級",
         "附注": "示例數據：破損嚴重，僅限館內閱覽。", "本地编号": "", "文献类型": "古籍", "访问级别": "限制"},
        {"普查编号": "", "索书号": "地文0001", "分类": "", "题名卷数": "示例县人民政府关于做好春耕生产工作的通知",
         "著者": "示例县人民政府", "版本": "1953年铅印本", "批校题跋": "", "版式": "", "装帧": "单页",
         "册数": "1件", "存卷": "", "尺寸": "27.0×21.6厘米", "钤印": "", "定级": "", "破损级别": "",
         "附注": "示例数据：（五三）府农字第十二号。", "本地编号": ITEM_DF, "文献类型": "地方文献", "访问级别": "公开"},
    ]


STRUCTURE_A = "juan,volume,file\n卷一,v01,0001.jpg\n卷二,v01,0004.jpg\n卷三,v02,0001.jpg\n"


def csv_bytes(rows: list[dict[str, str]], fields: list[str], bom: bool = False) -> bytes:
    buf = io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    wr.writeheader()
    for r in rows:
        wr.writerow({k: r.get(k, "") for k in fields})
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def round_floats(obj):
    if isinstance(obj, float):
        return round(obj, 2)
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# Jobs


class Writer:
    def __init__(self, out: Path, only: list[str]):
        self.out = out
        self.only = only
        self.written: list[str] = []

    def wants(self, rel: str) -> bool:
        return not self.only or any(fnmatch.fnmatch(rel, pat) for pat in self.only)

    def write(self, rel: str, data: bytes) -> None:
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        self.written.append(rel)


def truth_base(batch: str, rel: str) -> str:
    parts = rel.split("/")
    item, rest = parts[0], parts[1:]
    vol = rest[0] if len(rest) == 2 else "-"
    stem = Path(rest[-1]).stem
    return f"truth/{batch}/{item}/{vol}/{stem}"


def make_demo(wr: Writer) -> None:
    batch = "demo-batch"
    all_text = LUNYU_J1 + LUNYU_J2 + LUNYU_J3 + LAOZI + QIANZIWEN + ["論語道德經千字文卷一二三上四五六七八九十〇"]
    check_glyphs(all_text, FACE_TW)
    check_glyphs([NOTICE["header"], NOTICE["title"], NOTICE["docno"], *NOTICE["body"], *NOTICE["sign"]], FACE_CN)
    for page in demo_pages():
        rel = f"{batch}/{page.rel}"
        if not wr.wants(rel):
            continue
        data, truth, txt = build_book_page(page, batch)
        truth = {"batch": batch, "item": page.rel.split("/")[0], **truth}
        tb = truth_base(batch, page.rel)
        wr.write(rel, data)
        wr.write(tb + ".json", json_bytes(round_floats(truth)))
        wr.write(tb + ".txt", txt.encode("utf-8"))
    rel = f"{ITEM_DF}/0001.png"
    if wr.wants(f"{batch}/{rel}"):
        data, truth, txt = build_notice(rel, batch)
        truth = {"batch": batch, "item": ITEM_DF, **truth}
        tb = truth_base(batch, rel)
        wr.write(f"{batch}/{rel}", data)
        wr.write(tb + ".json", json_bytes(round_floats(truth)))
        wr.write(tb + ".txt", txt.encode("utf-8"))
    if not wr.only:
        wr.write(f"{batch}/batch.toml", BATCH_TOML.encode("utf-8"))
        wr.write(f"{batch}/records.csv", csv_bytes(demo_records(), SHEET_FIELDS))
        wr.write(f"{batch}/{ITEM_A}/structure.csv", STRUCTURE_A.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "samples", help="output folder (default samples/)")
    ap.add_argument("--only", action="append", default=[],
                    help="glob over output paths relative to --out, e.g. 'demo-batch/350000-2001-0000102/0001*'"
                         " (repeatable; then only matching images and their truth are written)")
    args = ap.parse_args(argv)
    wr = Writer(args.out, args.only)
    make_demo(wr)
    make_bad(wr)
    make_leaf(wr)
    for rel in wr.written:
        print(rel)
    return 0


BAD_TOML = """\
# Bad batch generated by scripts/make_samples.py: every ingest check has a case here
# (samples/README.md lists each defect and the finding ingest must report).
[batch]
id = "bad-2026-11"
institution = "示例省圖書館（示例數據）"
institution_code = "350000-2001"
operator = "王小明"
capture_device = "Epson DS-50000 (simulated)"
rights = "http://creativecommons.org/licenses/by-nc-sa/4.0/"
access = "public"
profile = "rare-book"

[ingest]
max_pixels = 3000000
"""

BAD_GOOD = "350000-2001-0000201"  # ingests fine
BAD_FILES = "350000-2001-0000202"  # broken / unreadable / oversized / duplicate files
BAD_NUMS = "350000-2001-0000203"  # numbering gap, duplicate number, NFC name collision
BAD_NO_ROW = "350000-2001-0000299"  # folder without a sheet row
BAD_NO_FOLDER = "350000-2001-0000298"  # sheet row without a folder
BAD_QC = "qc-edge"  # valid but problematic images for cleanup QC

# (path relative to bad-batch, expected finding) -- also written to truth/bad-batch/expected.json
BAD_EXPECT: list[tuple[str, str, str]] = []


def small_leaf(rel: str, width: int = 600, leaf_no: int = 1) -> np.ndarray:
    """A small, legible leaf (rendered full size, then reduced to ``width`` px)."""
    lz = leaves_for("千字文", "", QIANZIWEN, 1, rules=False)[0]
    lz.leaf_no = leaf_no
    page = BookPage(rel, [lz], paper_rgb=(226, 210, 172))
    rng = np.random.default_rng(seed_of("bad-batch/" + rel))
    paper_w = 2 * MARGIN_X + FRAME_W
    paper_h = MARGIN_TOP + FRAME_H + MARGIN_BOTTOM
    ink_l = Image.new("L", (paper_w, paper_h), 0)
    draw_leaf(ImageDraw.Draw(ink_l), MARGIN_X, MARGIN_TOP, page.leaves[0])
    arr = render(rng, (paper_w, paper_h), [0, 0, paper_w, paper_h], ink_l, page.paper_rgb, noise=1.5)
    h = round(paper_h * width / paper_w)
    return cv2.resize(arr, (width, h), interpolation=cv2.INTER_AREA)


def make_bad(wr: Writer) -> None:
    b = "bad-batch"
    files: dict[str, bytes] = {}
    expect: list[dict[str, str]] = []

    def add(rel: str, data: bytes, finding: str, code: str) -> None:
        files[rel] = data
        expect.append({"path": rel, "finding": code, "detail": finding})

    jp = lambda arr, q=80: encode(arr, "JPEG", 100, quality=q)  # noqa: E731
    # good item: three small pages
    for i in (1, 2, 3):
        rel = f"{BAD_GOOD}/{i:04d}.jpg"
        add(rel, jp(small_leaf(rel, leaf_no=i)), "none: ingests fine", "ok")
    # broken files
    good = jp(small_leaf(f"{BAD_FILES}/x", leaf_no=1))
    add(f"{BAD_FILES}/0001.jpg", good[: len(good) * 3 // 5], "JPEG cut off at 60 % of its bytes (no EOI marker)", "truncated-image")
    add(f"{BAD_FILES}/0002.jpg", b"", "zero-byte file", "zero-byte-file")
    add(f"{BAD_FILES}/0003.tif", "這不是圖像。This is not a TIFF image, just text.\n".encode("utf-8"),
        "'.tif' extension but plain text content", "not-an-image")
    big = cv2.resize(small_leaf(f"{BAD_FILES}/0004.jpg", width=400), (2000, 1600), interpolation=cv2.INTER_LINEAR)
    add(f"{BAD_FILES}/0004.jpg", jp(big, 60), "valid 2000x1600 JPEG = 3.2 MP, above max_pixels = 3000000", "decompression-bomb")
    pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
           b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    add(f"{BAD_FILES}/0005.heic", pdf, "'.heic' file that is really a tiny PDF: unsupported format", "unsupported-format")
    dup = jp(small_leaf(f"{BAD_FILES}/0006.jpg", leaf_no=2))
    add(f"{BAD_FILES}/0006.jpg", dup, "byte-identical to 0007.jpg", "duplicate-image")
    add(f"{BAD_FILES}/0007.jpg", dup, "byte-identical to 0006.jpg", "duplicate-image")
    add(f"{BAD_FILES}/0008.jpg", jp(small_leaf(f"{BAD_FILES}/0008.jpg", leaf_no=3)), "none: a good page", "ok")
    # numbering
    for n in (1, 2, 4):
        rel = f"{BAD_NUMS}/{n:04d}.jpg"
        add(rel, jp(small_leaf(rel, leaf_no=n)), "page 0003 missing between 0002 and 0004" if n == 4 else "none", "page-number-gap" if n == 4 else "ok")
    rel = f"{BAD_NUMS}/0005.jpg"
    add(rel, jp(small_leaf(rel, leaf_no=5)), "page number 5 used twice (0005.jpg, 0005.tif)", "duplicate-page-number")
    rel = f"{BAD_NUMS}/0005.tif"
    add(rel, encode(small_leaf(rel, leaf_no=6), "TIFF", 100), "page number 5 used twice (0005.jpg, 0005.tif)", "duplicate-page-number")
    for ch, name in (("\uf900", "compatibility ideograph U+F900"), ("\u8c48", "unified ideograph U+8C48")):
        rel = f"{BAD_NUMS}/0006{ch}.jpg"
        add(rel, jp(small_leaf(rel, leaf_no=7 if ch == "\uf900" else 8)),
            f"name uses the {name}; NFC folds both names to the same string (also page number 6 twice)",
            "unicode-normalisation-twins")
    # folder without a sheet row
    rel = f"{BAD_NO_ROW}/0001.jpg"
    add(rel, jp(small_leaf(rel)), "folder has no row in records.csv", "no-record")
    # qc-edge: valid images that cleanup QC must flag, not crash on
    q = BAD_QC
    add(f"{q}/0001.png", encode(Image.new("RGB", (600, 800), (0, 0, 0)), "PNG", 100), "all black: QC flags it (clipped shadows, no page found), never crashes", "qc:clipped-shadows")
    add(f"{q}/0002.png", encode(Image.new("RGB", (600, 800), (255, 255, 255)), "PNG", 100), "all white: QC flags it (clipped highlights / blank, no page found)", "qc:clipped-highlights")
    add(f"{q}/0003.png", encode(Image.fromarray(small_leaf(f"{q}/0003", width=40)).resize((40, 30)), "PNG", 100),
        "tiny image, 40x30 px: QC flags it (size outlier), never crashes", "qc:size-outlier")
    leaf = Image.fromarray(small_leaf(f"{q}/0004.tif")).convert("L")
    bw = leaf.point(lambda v: 255 if v > 128 else 0).convert("1", dither=Image.Dither.NONE)
    add(f"{q}/0004.tif", encode(bw, "TIFF", 100, compression="group4"), "1-bit bilevel TIFF (CCITT G4): ingests (mode 1, bit depth 1); cleanup converts it", "qc:convert")
    cmyk = Image.fromarray(small_leaf(f"{q}/0005.jpg")).convert("CMYK")
    add(f"{q}/0005.jpg", encode(cmyk, "JPEG", 100, quality=80), "CMYK JPEG (Adobe APP14): ingests (mode CMYK); cleanup converts it to sRGB", "qc:convert")
    g16 = (np.asarray(leaf, np.uint16) * 257).astype("<u2")
    im16 = Image.fromarray(g16, mode="I;16") if int(Image.__version__.split(".")[0]) < 12 else Image.fromarray(g16)
    add(f"{q}/0006.tif", encode(im16, "TIFF", 100, compression="tiff_adobe_deflate"), "16-bit greyscale TIFF: ingests (bit depth 16); cleanup scales it to 8 bit", "qc:convert")

    records = [
        {"普查编号": BAD_GOOD, "题名卷数": "千字文一卷", "著者": "（南朝梁）周興嗣撰", "版本": "清刻本", "册数": "1册",
         "文献类型": "古籍", "访问级别": "公开"},
        {"普查编号": BAD_FILES, "题名卷数": "千字文一卷", "著者": "（南朝梁）周興嗣撰", "版本": "清刻本", "册数": "1册",
         "附注": "壞檔示例", "文献类型": "古籍", "访问级别": "公开"},
        {"普查编号": BAD_NUMS, "题名卷数": "千字文一卷", "著者": "（南朝梁）周興嗣撰", "版本": "清刻本", "册数": "1册",
         "附注": "編號示例", "文献类型": "古籍", "访问级别": "公开"},
        {"普查编号": BAD_NO_FOLDER, "题名卷数": "三字經一卷", "著者": "（宋）王應麟撰", "版本": "清刻本", "册数": "1册",
         "附注": "有記錄無文件夾", "文献类型": "古籍", "访问级别": "公开"},
        {"普查编号": "", "本地编号": BAD_QC, "题名卷数": "質檢邊界樣張", "文献类型": "古籍", "访问级别": "公开"},
    ]
    expect.append({"path": BAD_FILES, "finding": "page-number-gap",
                   "detail": "side effect: 0005.heic is not a page image, so page 5 is missing"})
    expect.append({"path": BAD_NO_FOLDER, "finding": "record-without-images", "detail": "sheet row 5 (line 5 of records.csv, header = line 1) has no item folder"})
    if wr.only:
        files = {k: v for k, v in files.items() if wr.wants(f"{b}/{k}")}
    for rel, data in files.items():
        wr.write(f"{b}/{rel}", data)
    if not wr.only:
        wr.write(f"{b}/batch.toml", BAD_TOML.encode("utf-8"))
        wr.write(f"{b}/records.csv", csv_bytes(records, SHEET_FIELDS, bom=True))
        wr.write("truth/bad-batch/expected.json", json_bytes({"batch": b, "expected": expect}))



# ---------------------------------------------------------------------------------------------
# The leaf-sequence batch: one book with planted missing, misordered and duplicated leaves

LEAF_ITEM = "350000-2001-0000301"
LEAF_SCALE = 0.7  # small pages: characters ~34 px, the centre column ~56 px wide

LEAF_TOML = """\
# Leaf-sequence batch generated by scripts/make_samples.py: one book whose leaves were captured
# with planted defects (samples/README.md, truth in truth/leaf-batch/expected.json).
[batch]
id = "leaf-2026-12"
institution = "示例省圖書館（示例數據）"
""" + BATCH_COMMON


def leaf_pages() -> list[tuple[BookPage, str]]:
    """Capture order of the planted book, each page with what is planted there ("" = nothing)."""
    j1 = leaves_for("論語", "卷一", LUNYU_J1, 5)
    j2 = leaves_for("論語", "卷二", LUNYU_J3, 5)
    j3 = leaves_for("論語", "卷三", LUNYU_J2, 1)
    pa = (222, 204, 166)
    kw = dict(paper_rgb=pa, scale=LEAF_SCALE, quality=85)
    it = LEAF_ITEM
    return [
        (BookPage(f"{it}/v01/0001.jpg", [j1[0]], **kw), ""),
        (BookPage(f"{it}/v01/0002.jpg", [j1[2]], **kw), ""),
        (BookPage(f"{it}/v01/0003.jpg", [j1[3]], bed=40, **kw), ""),
        (BookPage(f"{it}/v01/0004.jpg", [j1[4]], **kw), ""),
        (BookPage(f"{it}/v01/0005.jpg", [j1[1]], **kw), "misordered: 卷一 葉二 belongs after v01/0001.jpg, before v01/0002.jpg"),
        (BookPage(f"{it}/v01/0006.jpg", [j2[0]], bed=40, **kw), "juan boundary inside v01: 卷二 starts"),
        (BookPage(f"{it}/v01/0007.jpg", [j2[1]], **kw), ""),
        (BookPage(f"{it}/v02/0001.jpg", [j2[3]], **kw), "missing before it: 卷二 葉三 (between v01/0007.jpg and v02/0001.jpg); 卷二 crosses volumes"),
        (BookPage(f"{it}/v02/0002.jpg", [j2[3]], bed=40, angle=0.6, **kw), "duplicate: 卷二 葉四 shot again (re-shoot of v02/0001.jpg)"),
        (BookPage(f"{it}/v02/0003.jpg", [j2[4]], **kw), ""),
        (BookPage(f"{it}/v02/0004.jpg", [j3[0]], bed=40, **kw), "juan boundary inside v02: 卷三 starts"),
    ]


def leaf_expected() -> dict:
    it = LEAF_ITEM
    return {
        "batch": "leaf-batch",
        "item": it,
        "pages": [{"file": p.rel, "juan": p.leaves[0].juan, "leaf": p.leaves[0].leaf_no, "planted": why}
                  for p, why in leaf_pages()],
        "missing": [{"juan": "卷二", "leaves": [3], "after": f"{it}/v01/0007.jpg", "before": f"{it}/v02/0001.jpg"}],
        "misordered": [{"file": f"{it}/v01/0005.jpg", "juan": "卷一", "leaf": 2,
                        "after": f"{it}/v01/0001.jpg", "before": f"{it}/v01/0002.jpg"}],
        "duplicated": [{"file": f"{it}/v02/0002.jpg", "original": f"{it}/v02/0001.jpg", "juan": "卷二", "leaf": 4}],
        "juan": [
            {"juan": "卷一", "files": [f"{it}/v01/000{i}.jpg" for i in range(1, 6)], "leaves": [1, 3, 4, 5, 2]},
            {"juan": "卷二", "files": [f"{it}/v01/0006.jpg", f"{it}/v01/0007.jpg"]
             + [f"{it}/v02/000{i}.jpg" for i in range(1, 4)], "leaves": [1, 2, 4, 4, 5]},
            {"juan": "卷三", "files": [f"{it}/v02/0004.jpg"], "leaves": [1]},
        ],
        "census": [{"field": "存卷", "finding": "census-complete-lacks-leaves",
                    "detail": "題名卷數 三卷, no 存卷 (described complete), 卷二 葉三 missing"}],
    }


def leaf_records() -> list[dict[str, str]]:
    return [{"普查编号": LEAF_ITEM, "索书号": "善經0301", "分类": "經部/四書類/論語之屬", "题名卷数": "論語集注三卷",
             "著者": "（宋）朱熹撰", "版本": "清刻本", "版式": "半葉八行行十六字，小字雙行同，白口，四周雙邊，單魚尾",
             "装帧": "綫裝", "册数": "2册", "存卷": "", "尺寸": frame_size_text(), "附注": "示例數據：葉序有誤（見 truth）。",
             "文献类型": "古籍", "访问级别": "公开"}]


def make_leaf(wr: Writer) -> None:
    batch = "leaf-batch"
    for page, _why in leaf_pages():
        rel = f"{batch}/{page.rel}"
        if not wr.wants(rel):
            continue
        data, _truth, _txt = build_book_page(page, batch)
        wr.write(rel, data)
    if not wr.only:
        wr.write(f"{batch}/batch.toml", LEAF_TOML.encode("utf-8"))
        wr.write(f"{batch}/records.csv", csv_bytes(leaf_records(), SHEET_FIELDS))
        wr.write("truth/leaf-batch/expected.json", json_bytes(leaf_expected()))


if __name__ == "__main__":
    sys.exit(main())
