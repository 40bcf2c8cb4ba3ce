"""Likely-duplicate keys: normalised names, website domain and credit code.

SecantusDB has no text search, so these keys are stored with each enterprise and indexed;
finding candidates is then a handful of indexed equality look-ups.
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

# German transliteration first: "Müller" and "Mueller" are the same firm.
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

# Legal-form words stripped from the end of a Latin-script name (after normalisation).
LEGAL_FORM_WORDS = frozenset(
    {
        "gmbh",
        "mbh",
        "ag",
        "se",
        "kg",
        "kgaa",
        "ohg",
        "gbr",
        "ug",
        "ev",
        "co",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "plc",
        "corp",
        "corporation",
        "sa",
        "sarl",
        "sas",
        "bv",
        "nv",
        "spa",
        "srl",
        "ab",
        "as",
        "oy",
        "haftungsbeschraenkt",
        "and",
        "und",
        "&",
    }
)
# Chinese legal forms, longest first so 股份有限公司 is not left as 股份.
CHINESE_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")
# A parenthesised place in a Chinese name: 西门子（中国）有限公司 is 西门子.
_CHINESE_PLACE = re.compile(r"[（(][\u4e00-\u9fff]{1,6}[)）]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z0-9&]+|[\u4e00-\u9fff]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(_TRANSLITERATE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def name_words(name: str) -> list[str]:
    """The words of a name, folded (case, umlauts, ß, accents) and without punctuation."""
    return _WORD.findall(_fold(name))


def normalised_name(name: str) -> str:
    """The key two spellings of one firm share: `Müller GmbH & Co. KG` -> `mueller`."""
    folded = _fold(name)
    if _CJK.search(folded):
        chinese = _CHINESE_PLACE.sub("", re.sub(r"\s+", "", folded))
        for form in CHINESE_LEGAL_FORMS:
            if chinese.endswith(form) and len(chinese) > len(form):
                chinese = chinese[: -len(form)]
                break
        return "".join(_WORD.findall(chinese))
    words = _WORD.findall(folded)
    while len(words) > 1 and words[-1] in LEGAL_FORM_WORDS:
        words.pop()
    return " ".join(words)


PREFIX_LENGTH = 20


def search_prefixes(*names: str | None) -> list[str]:
    """Every prefix of every word of the names (and of the normalised name): a `q` word
    is then one indexed equality look-up, which SecantusDB serves without a scan."""
    words: set[str] = set()
    for name in names:
        if name:
            words.update(name_words(name))
            words.add(normalised_name(name).replace(" ", ""))
    prefixes = {
        word[:end]
        for word in words
        if word != "&"
        for end in range(1, min(len(word), PREFIX_LENGTH) + 1)
    }
    return sorted(prefixes)


def query_words(q: str | None) -> list[str]:
    """The words of a search, longest first (the most selective drives the look-up)."""
    words = {word[:PREFIX_LENGTH] for word in name_words(q or "") if word != "&"}
    return sorted(words, key=len, reverse=True)


def website_domain(url: str | None) -> str | None:
    """`https://www.Siemens.com/de` -> `siemens.com` (the `www.` prefix says nothing)."""
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = (parts.hostname or "").lower().rstrip(".")
    host = host.removeprefix("www.")
    return host or None


@dataclass(frozen=True)
class DuplicateKeys:
    name_key: str
    local_name_key: str | None
    website_domain: str | None
    credit_code: str | None

    def tagged(self) -> list[str]:
        """The keys as one list (`name:…`, `web:…`, `code:…`): two firms sharing any one
        are likely duplicates. Names in either script share the `name:` tag, so a
        Chinese name stored as one firm's `name` meets another's `local_name`."""
        keys = [f"name:{self.name_key}"]
        if self.local_name_key:
            keys.append(f"name:{self.local_name_key}")
        if self.website_domain:
            keys.append(f"web:{self.website_domain}")
        if self.credit_code:
            keys.append(f"code:{self.credit_code}")
        return list(dict.fromkeys(key for key in keys if not key.endswith(":")))


def duplicate_keys(
    name: str, local_name: str | None, website: str | None, credit_code: str | None
) -> DuplicateKeys:
    return DuplicateKeys(
        name_key=normalised_name(name),
        local_name_key=normalised_name(local_name) if local_name else None,
        website_domain=website_domain(website),
        credit_code=credit_code,
    )


MATCH_LABELS = {"name": "name", "web": "website", "code": "credit_code"}


def matched_on(mine: list[str], theirs: list[str]) -> list[str]:
    """What two sets of tagged keys share, as labels (`name`, `website`, `credit_code`)."""
    shared = set(mine) & set(theirs)
    return [
        label for tag, label in MATCH_LABELS.items() if any(k.startswith(f"{tag}:") for k in shared)
    ]
