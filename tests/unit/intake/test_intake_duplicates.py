"""Normalised names and website domains that reveal likely duplicates."""

import pytest

from crm_intake.domain.duplicates import (
    duplicate_keys,
    matched_on,
    normalised_name,
    query_words,
    search_prefixes,
    website_domain,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "spellings",
    [
        ["Müller GmbH & Co. KG", "MUELLER GMBH", "Mueller", "müller kg"],
        ["Siemens AG", "SIEMENS", "siemens ag."],
        ["Straße Logistik SE", "Strasse Logistik"],
        ["Shanghai Yangpu Tech Co., Ltd.", "Shanghai Yangpu Tech Co. Ltd", "shanghai yangpu tech"],
        ["Thyssenkrupp Ltd", "ThyssenKrupp Limited", "thyssenkrupp inc."],
        ["西门子（中国）有限公司", "西门子有限公司", "西门子股份有限公司", "西门子"],
        ["Café Réunion SARL", "Cafe Reunion"],
    ],
)
def test_spellings_of_one_firm_share_a_key(spellings: list[str]) -> None:
    keys = {normalised_name(name) for name in spellings}
    assert len(keys) == 1, keys


def test_different_firms_keep_different_keys() -> None:
    assert normalised_name("Continental AG") != normalised_name("Continental Automotive GmbH")
    # A name that is only a legal form keeps it rather than becoming empty.
    assert normalised_name("AG") == "ag"


def test_website_domain_ignores_scheme_www_case_and_path() -> None:
    assert website_domain("https://www.Siemens.com/de/") == "siemens.com"
    assert website_domain("siemens.com") == "siemens.com"
    assert website_domain(None) is None


def test_keys_meet_names_in_either_script_and_say_what_matched() -> None:
    siemens = duplicate_keys("Siemens AG", "西门子有限公司", "www.siemens.com", None).tagged()
    assert siemens == ["name:siemens", "name:西门子", "web:siemens.com"]
    chinese_first = duplicate_keys("西门子（中国）有限公司", None, None, None).tagged()
    assert matched_on(siemens, chinese_first) == ["name"]
    same_site = duplicate_keys("SAG", None, "https://siemens.com/en", "91350100M000100Y43")
    assert matched_on(siemens, same_site.tagged()) == ["website"]
    assert matched_on(siemens, ["name:other"]) == []


def test_search_prefixes_cover_each_word_of_each_name() -> None:
    prefixes = set(search_prefixes("Müller Maschinenbau GmbH", "穆勒机械有限公司"))
    assert {"m", "mu", "muel", "mueller", "masch", "maschinenbau", "gmbh"} <= prefixes
    assert {"muellermaschinenbau", "穆", "穆勒机械"} <= prefixes
    assert "ller" not in prefixes  # prefixes only: words are found by their start
    assert query_words("  Mül Masch ") == ["masch", "muel"]
