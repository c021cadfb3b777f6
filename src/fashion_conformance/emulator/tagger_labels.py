"""Label sets of the emulated Omnious Tagger v2.12: per attribute value an id and a name in en, ko, zh, ja.

The ids and English names that the document's response example shows (omnious-tagger-v2.12-api.en.txt /
Response Example) are kept; every other id and every translation is the emulator's own. Ids are unique across
all attributes and do not depend on the language.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("en", "ko", "zh", "ja")

# attribute -> key -> (id, en, ko, zh, ja)
LABELS: dict[str, dict[str, tuple[str, str, str, str, str]]] = {
    "imageInfo": {
        "product-only": ("T0450", "product-only", "상품 단독", "仅商品", "商品のみ"),
    },
    "category": {
        "top": ("T0351", "top", "상의", "上衣", "トップス"),
        "shirt": ("T0353", "shirt", "셔츠", "衬衫", "シャツ"),
        "jacket": ("T0360", "jacket", "재킷", "夹克", "ジャケット"),
        "pants": ("T0355", "pants", "팬츠", "裤子", "パンツ"),
        "skirt": ("T0357", "skirt", "스커트", "半身裙", "スカート"),
        "dress": ("T0359", "dress", "원피스", "连衣裙", "ワンピース"),
        "swimwear": ("T0361", "swimwear", "수영복", "泳装", "水着"),
        "bag": ("T0363", "bag", "가방", "包", "バッグ"),
        "accessory": ("T0365", "accessory", "액세서리", "配饰", "アクセサリー"),
        "boots": ("T0495", "boots", "부츠", "靴子", "ブーツ"),
        "sneakers": ("T0497", "sneakers", "스니커즈", "运动鞋", "スニーカー"),
    },
    "item": {
        "t-shirt": ("T0270", "t-shirt", "티셔츠", "T恤", "Tシャツ"),
        "sweater": ("T0271", "sweater", "스웨터", "毛衣", "セーター"),
        "sleeveless-top": ("T0272", "sleeveless-top", "민소매 상의", "无袖上衣", "ノースリーブトップス"),
        "shirt": ("T0273", "shirt", "셔츠", "衬衫", "シャツ"),
        "blouse": ("T0274", "blouse", "블라우스", "女式衬衫", "ブラウス"),
        "balmacaan-jacket": ("T0345", "balmacaan-jacket", "발마칸 재킷", "巴尔玛肯夹克", "バルマカンジャケット"),
        "blazer": ("T0346", "blazer", "블레이저", "西装外套", "ブレザー"),
        "bomber-jacket": ("T0347", "bomber-jacket", "보머 재킷", "飞行员夹克", "ボンバージャケット"),
        "slacks": ("T0275", "slacks", "슬랙스", "西裤", "スラックス"),
        "jeans": ("T0276", "jeans", "청바지", "牛仔裤", "ジーンズ"),
        "wide-pants": ("T0277", "wide-pants", "와이드 팬츠", "阔腿裤", "ワイドパンツ"),
        "shorts": ("T0278", "shorts", "반바지", "短裤", "ショートパンツ"),
        "a-line-skirt": ("T0279", "a-line-skirt", "A라인 스커트", "A字裙", "Aラインスカート"),
        "pencil-skirt": ("T0280", "pencil-skirt", "펜슬 스커트", "铅笔裙", "ペンシルスカート"),
        "mini-skirt": ("T0281", "mini-skirt", "미니 스커트", "迷你裙", "ミニスカート"),
        "a-line-dress": ("T0282", "a-line-dress", "A라인 원피스", "A字连衣裙", "Aラインワンピース"),
        "shift-dress": ("T0283", "shift-dress", "시프트 원피스", "直筒连衣裙", "シフトドレス"),
        "maxi-dress": ("T0284", "maxi-dress", "맥시 원피스", "长款连衣裙", "マキシワンピース"),
        "swimsuit": ("T0285", "swimsuit", "수영복", "泳衣", "スイムスーツ"),
        "tote-bag": ("T0286", "tote-bag", "토트백", "托特包", "トートバッグ"),
        "shoulder-bag": ("T0287", "shoulder-bag", "숄더백", "单肩包", "ショルダーバッグ"),
        "accessory": ("T0288", "accessory", "액세서리", "饰品", "アクセサリー小物"),
        "ankle-boots": ("T0503", "ankle-boots", "앵클 부츠", "踝靴", "アンクルブーツ"),
        "long-boots": ("T0504", "long-boots", "롱 부츠", "长靴", "ロングブーツ"),
        "low-top-sneakers": ("T0505", "low-top-sneakers", "로우탑 스니커즈", "低帮运动鞋", "ローカットスニーカー"),
        "slip-on": ("T0506", "slip-on", "슬립온", "一脚蹬", "スリッポン"),
    },
    "color": {
        "white": ("T0315", "white", "화이트", "白色", "ホワイト"),
        "ivory": ("T0316", "ivory", "아이보리", "象牙色", "アイボリー"),
        "black": ("T0317", "black", "블랙", "黑色", "ブラック"),
        "gray": ("T0318", "gray", "그레이", "灰色", "グレー"),
        "brown": ("T0319", "brown", "브라운", "棕色", "ブラウン"),
        "red": ("T0320", "red", "레드", "红色", "レッド"),
        "burgundy": ("T0321", "burgundy", "버건디", "酒红色", "バーガンディ"),
        "pink": ("T0322", "pink", "핑크", "粉色", "ピンク"),
        "orange": ("T0323", "orange", "오렌지", "橙色", "オレンジ"),
        "yellow": ("T0324", "yellow", "옐로우", "黄色", "イエロー"),
        "khaki": ("T0325", "khaki", "카키", "卡其色", "カーキ"),
        "beige": ("T0326", "beige", "베이지", "米色", "ベージュ"),
        "green": ("T0327", "green", "그린", "绿色", "グリーン"),
        "mint": ("T0328", "mint", "민트", "薄荷色", "ミント"),
        "sky-blue": ("T0329", "sky-blue", "스카이블루", "天蓝色", "スカイブルー"),
        "blue": ("T0330", "blue", "블루", "蓝色", "ブルー"),
        "navy": ("T0331", "navy", "네이비", "藏青色", "ネイビー"),
        "purple": ("T0332", "purple", "퍼플", "紫色", "パープル"),
    },
    "print": {
        "solid": ("T0198", "solid", "무지", "纯色", "無地"),
        "stripe": ("T0199", "stripe", "스트라이프", "条纹", "ストライプ"),
        "check": ("T0200", "check", "체크", "格纹", "チェック"),
        "dot": ("T0201", "dot", "도트", "波点", "ドット"),
    },
    "look": {
        "casual": ("T0141", "casual", "캐주얼", "休闲", "カジュアル"),
        "formal": ("T0142", "formal", "포멀", "正式", "フォーマル"),
        "street": ("T0143", "street", "스트리트", "街头", "ストリート"),
        "sporty": ("T0144", "sporty", "스포티", "运动", "スポーティー"),
        "feminine": ("T0145", "feminine", "페미닌", "淑女", "フェミニン"),
    },
    "texture": {
        "synthetic/polyester": ("T0220", "synthetic/polyester", "합성/폴리에스터", "合成/涤纶", "合成繊維/ポリエステル"),
        "cotton": ("T0221", "cotton", "면", "棉", "コットン"),
        "denim": ("T0222", "denim", "데님", "牛仔布", "デニム"),
        "leather": ("T0223", "leather", "가죽", "皮革", "レザー"),
        "knit": ("T0224", "knit", "니트", "针织", "ニット"),
    },
    "detail": {
        "buttoned": ("T0097", "buttoned", "단추", "纽扣", "ボタン"),
        "zipper": ("T0098", "zipper", "지퍼", "拉链", "ジッパー"),
        "pocket": ("T0099", "pocket", "포켓", "口袋", "ポケット"),
        "pleats": ("T0101", "pleats", "플리츠", "百褶", "プリーツ"),
        "ribbon": ("T0100", "ribbon", "리본", "蝴蝶结", "リボン"),
    },
    "length": {
        "cropped": ("T0466", "cropped", "크롭", "短款", "クロップド"),
        "half": ("T0468", "half", "하프", "中长", "ハーフ"),
        "long": ("T0469", "long", "롱", "长款", "ロング"),
        "mini": ("T0470", "mini", "미니", "超短", "ミニ"),
        "knee": ("T0471", "knee", "무릎 길이", "及膝", "ひざ丈"),
        "midi": ("T0472", "midi", "미디", "中长裙摆", "ミディ"),
        "maxi": ("T0473", "maxi", "맥시", "及踝", "マキシ"),
    },
    "sleeveLength": {
        "sleeveless": ("T0080", "sleeveless", "민소매", "无袖", "ノースリーブ"),
        "short-sleeve": ("T0081", "short-sleeve", "반소매", "短袖", "半袖"),
        "long-sleeve": ("T0082", "long-sleeve", "긴소매", "长袖", "長袖"),
    },
    "neckLine": {
        "round-neck": ("T0340", "round-neck", "라운드넥", "圆领", "ラウンドネック"),
        "v-neck": ("T0341", "v-neck", "브이넥", "V领", "Vネック"),
        "hood": ("T0342", "hood", "후드", "连帽", "フード"),
        "collar": ("T0343", "collar", "카라", "翻领", "襟付き"),
    },
    "fit": {
        "skinny": ("T0480", "skinny", "스키니", "紧身", "スキニー"),
        "regular": ("T0481", "regular", "레귤러", "常规", "レギュラー"),
        "loose": ("T0482", "loose", "루즈", "宽松", "ルーズ"),
        "oversized": ("T0483", "oversized", "오버사이즈", "超大", "オーバーサイズ"),
    },
    "shape": {
        "straight": ("T0490", "straight", "스트레이트", "直筒", "ストレート"),
        "a-line": ("T0491", "a-line", "A라인", "A字", "Aライン"),
        "wide": ("T0492", "wide", "와이드", "阔型", "ワイド"),
        "tapered": ("T0493", "tapered", "테이퍼드", "锥形", "テーパード"),
    },
    "heelHeight": {
        "flat": ("T0533", "flat", "플랫", "平底", "フラット"),
        "low(1~3)": ("T0534", "low(1~3)", "낮음(1~3)", "低(1~3)", "ロー(1~3)"),
        "middle(3~7)": ("T0535", "middle(3~7)", "중간(3~7)", "中(3~7)", "ミドル(3~7)"),
        "high(7~)": ("T0536", "high(7~)", "높음(7~)", "高(7~)", "ハイ(7~)"),
    },
    "toeType": {
        "round-toe": ("T0537", "round-toe", "라운드 토", "圆头", "ラウンドトゥ"),
        "pointed-toe": ("T0545", "pointed-toe", "포인티드 토", "尖头", "ポインテッドトゥ"),
        "square-toe": ("T0546", "square-toe", "스퀘어 토", "方头", "スクエアトゥ"),
    },
    "heelShape": {
        "stiletto": ("T0539", "stiletto", "스틸레토", "细高跟", "スティレット"),
        "ball": ("T0540", "ball", "볼 힐", "球形跟", "ボールヒール"),
        "block": ("T0541", "block", "블록 힐", "粗跟", "ブロックヒール"),
        "wedge": ("T0547", "wedge", "웨지", "坡跟", "ウェッジ"),
    },
    "soleType": {
        "platform": ("T0542", "platform", "플랫폼", "厚底", "厚底"),
        "chunky-sneaker": ("T0543", "chunky-sneaker", "청키 스니커", "老爹鞋底", "チャンキースニーカー"),
        "flat-sole": ("T0548", "flat-sole", "플랫 솔", "平底鞋底", "フラットソール"),
    },
}

# Reference sRGB of the 18 colours of `LABELS["color"]` (nearest in Lab wins).
COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245), "ivory": (250, 244, 222), "black": (22, 22, 22), "gray": (128, 128, 128),
    "brown": (118, 72, 40), "red": (200, 30, 35), "burgundy": (120, 10, 40), "pink": (240, 150, 180),
    "orange": (240, 130, 30), "yellow": (240, 215, 40), "khaki": (130, 125, 75), "beige": (222, 204, 170),
    "green": (40, 140, 60), "mint": (150, 225, 195), "sky-blue": (120, 180, 230), "blue": (35, 80, 200),
    "navy": (25, 35, 85), "purple": (120, 50, 150),
}

# colorDetails names: a tone word composed with a colour name; (en, ko, zh, ja), en joined with "-".
TONES: dict[str, tuple[str, str, str, str]] = {
    "light": ("light", "라이트 ", "浅", "ライト"),
    "dark": ("dark", "다크 ", "深", "ダーク"),
}
UNTONED: frozenset[str] = frozenset({"white", "ivory", "black"})

# genderInfo: the table fixes the names (male, female, unknown) in every language.
GENDER_IDS: dict[str, str] = {"female": "T0417", "male": "T0418", "unknown": "T0419"}


def label(attribute: str, key: str, lang: str) -> dict[str, str]:
    """{"id", "name"} of one attribute value in `lang` (en, ko, zh, ja)."""
    entry = LABELS[attribute][key]
    return {"id": entry[0], "name": entry[1 + LANGS.index(lang)]}


def detail_colour_name(tone: str | None, colour: str, lang: str) -> str:
    """A colorDetails name: the colour's name, lightened or darkened by `tone` ("light", "dark" or None)."""
    name = LABELS["color"][colour][1 + LANGS.index(lang)]
    if tone is None or colour in UNTONED:
        return name
    word = TONES[tone][LANGS.index(lang)]
    return f"{word}-{name}" if lang == "en" else word + name
