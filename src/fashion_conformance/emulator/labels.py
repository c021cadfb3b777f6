"""Tag label sets of the NHN tag APIs, per attribute and language (en, ko, ja).

English and Korean texts that appear in the documents' tag examples are taken from there
(nhn-ai-fashion-v1.0-api-guide.en.txt / Deep Tagging > Tag, Response Body Example;
nhn-ai-fashion-v2.0-api-guide.ko.txt / 태그 > 응답 본문 예); the other texts, and every Japanese
one, are the emulator's own. The v1 API names Japanese `jp`; callers map it to `ja`.
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("en", "ko", "ja")

LABELS: dict[str, dict[str, tuple[str, str, str]]] = {
    "category": {
        "TOP": ("T-shirt", "티셔츠", "Tシャツ"),
        "SHIRT": ("Blouse", "블라우스", "ブラウス"),
        "JACKET": ("Jacket", "재킷", "ジャケット"),
        "PANTS": ("Pants", "팬츠", "パンツ"),
        "SKIRT": ("Skirt", "스커트", "スカート"),
        "DRESS": ("Dress", "원피스", "ワンピース"),
        "SHOES": ("Shoes", "신발", "シューズ"),
        "BAG": ("Bag", "가방", "バッグ"),
    },
    "color": {
        "black": ("Black", "블랙", "ブラック"),
        "white": ("White", "화이트", "ホワイト"),
        "gray": ("Gray", "그레이", "グレー"),
        "beige": ("Beige", "베이지/아이보리", "ベージュ"),
        "brown": ("Brown", "브라운/갈색", "ブラウン"),
        "red": ("Red", "레드", "レッド"),
        "pink": ("Pink", "핑크", "ピンク"),
        "orange": ("Orange", "오렌지", "オレンジ"),
        "yellow": ("Yellow", "옐로우", "イエロー"),
        "khaki": ("Khaki", "카키", "カーキ"),
        "green": ("Green", "그린", "グリーン"),
        "skyblue": ("SkyBlue", "스카이블루", "スカイブルー"),
        "blue": ("Blue", "블루", "ブルー"),
        "navy": ("Navy", "네이비", "ネイビー"),
        "purple": ("Purple", "퍼플", "パープル"),
    },
    "pattern": {
        "solid": ("Solid", "무지", "無地"),
        "stripe": ("Stripe", "스트라이프", "ストライプ"),
        "check": ("Check", "체크", "チェック"),
        "dot": ("Dot", "도트", "ドット"),
    },
    "fabric": {
        "cotton": ("Cotton", "면", "コットン"),
        "denim": ("Denim", "데님", "デニム"),
        "silk": ("Silk", "실크", "シルク"),
        "canvas": ("Canvas", "캔버스", "キャンバス"),
        "leather": ("Leather", "가죽", "レザー"),
    },
    "length_up": {
        "crop": ("Crop", "크롭", "クロップ"),
        "waist": ("Waist", "허리선", "ウエスト"),
        "hip": ("Hip", "엉덩이", "ヒップ"),
    },
    "length_lo": {
        "short": ("Short/Thigh", "숏", "ショート"),
        "knee": ("Knee", "무릎", "ひざ丈"),
        "long": ("Long/Ankle", "롱", "ロング"),
    },
    "shape": {
        "aline": ("A-line", "A라인/플레어", "Aライン"),
        "hline": ("H-line", "H라인", "Hライン"),
    },
    "age": {
        "adult": ("Adult", "어른", "大人"),
    },
    "gender": {
        "female": ("Female", "여성", "女性"),
        "male": ("Male", "남성", "男性"),
        "unisex": ("Unisex", "남녀공용", "ユニセックス"),
    },
    "fit": {
        "slim": ("Slim", "슬림핏", "スリムフィット"),
        "regular": ("Normal/Regular", "기본핏/레귤러핏", "レギュラーフィット"),
        "loose": ("Loose", "루즈핏", "ルーズフィット"),
    },
}


def label(attribute: str, key: str, lang: str) -> str:
    """The text of one label; KeyError/ValueError for an unknown attribute, key or language."""
    if lang not in LANGS:
        raise ValueError(f"unknown label language {lang!r}; one of {LANGS}")
    return LABELS[attribute][key][LANGS.index(lang)]
