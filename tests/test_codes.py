from hypothesis import given
from hypothesis import strategies as st

from service.items.codes import natural_key
from service.items.rules import derived_parent_code


def test_numbers_sort_by_value_not_by_text() -> None:
    codes = ["10", "2", "1-10", "1-2", "1", "1-2-1", "1.10", "1.9"]
    assert sorted(codes, key=natural_key) == ["1", "1-2", "1-2-1", "1.9", "1-10", "1.10", "2", "10"]


def test_full_width_and_circled_numbers_sort_as_their_values() -> None:
    assert natural_key("１－２") == natural_key("1-2")
    assert natural_key("①-1") == natural_key("1-1")
    assert sorted(["１－１０", "１－２"], key=natural_key) == ["１－２", "１－１０"]


def test_lettered_sub_items_follow_their_parent_in_kana_order() -> None:
    codes = ["1-イ", "1", "1-ア", "2", "1-ウ"]
    assert sorted(codes, key=natural_key) == ["1", "1-ア", "1-イ", "1-ウ", "2"]


@given(st.lists(st.lists(st.integers(0, 9999), min_size=1, max_size=5), min_size=1, max_size=30))
def test_natural_key_orders_dotted_codes_like_their_number_tuples(parts: list[list[int]]) -> None:
    codes = [".".join(str(n) for n in p) for p in parts]
    by_key = sorted(codes, key=lambda c: (natural_key(c), c))
    by_tuple = sorted(codes, key=lambda c: (tuple(int(n) for n in c.split(".")), c))
    assert [tuple(map(int, c.split("."))) for c in by_key] == [
        tuple(map(int, c.split("."))) for c in by_tuple
    ]


def test_parent_comes_from_the_last_separator() -> None:
    assert derived_parent_code("1-2-3") == "1-2"
    assert derived_parent_code("1.2.3") == "1.2"
    assert derived_parent_code("1.2.3.") == "1.2"
    assert derived_parent_code("１－２") == "１"
    assert derived_parent_code("1") is None
    assert derived_parent_code("A") is None
