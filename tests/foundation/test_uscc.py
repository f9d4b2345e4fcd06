"""The unified social credit code check (GB 32100-2015)."""
import pytest

from models.organizations import uscc_check_char, uscc_error, valid_uscc


def test_check_char_of_a_hand_computed_code():
    # 9 1 3 7 0 4 8 1 0 0 0 0 0 0 0 0 1 with weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28:
    # 9*1 + 1*3 + 3*9 + 7*27 + 0 + 4*26 + 8*16 + 1*17 + 0*... + 1*28 = 505; 505 % 31 = 9; 31 - 9 = 22 -> 'N'
    assert uscc_check_char("91370481000000001") == "N"
    assert valid_uscc("91370481000000001N")


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91370000163044841F"])
def test_published_codes_are_valid(code):
    assert uscc_error(code) is None


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91370481000000001A", "校验位不正确"),          # wrong check digit
        ("91370481000000001", "应为18位"),               # too short
        ("91370481000000001NN", "应为18位"),             # too long
        ("91350100m000100y43", "须大写"),                # lowercase
        ("91370481I0000000O1", "不允许的字符"),           # I and O are not used
        ("913704S1000000001N", "不允许的字符"),           # S is not used
        ("91ABCDEF000000001N", "行政区划"),               # region code must be digits
    ],
)
def test_invalid_codes_say_why(code, message):
    err = uscc_error(code)
    assert err is not None and message in err
