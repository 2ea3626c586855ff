"""A1: business registration number check digit."""
import pytest
from hypothesis import given, strategies as st
from pydantic import TypeAdapter, ValidationError

from sme_schemas.application import CompanyProfile
from sme_schemas.values import BusinessRegistrationNumber, brn_check_digit

BRN = TypeAdapter(BusinessRegistrationNumber)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@pytest.mark.parametrize("number", ["1248100998", "2208162517", "1078155843"])
def test_published_numbers_are_valid(number):
    # Numbers of real, well-known companies (Samsung Electronics, Hyundai Motor, LG Electronics).
    assert BRN.validate_python(number) == number


def test_check_digit_by_hand():
    # 124-81-0099: 1*1+2*3+4*7+8*1+1*3+0*7+0*1+9*3+9*5 = 1+6+28+8+3+0+0+27+45 = 118; plus floor(9*5/10)=4 -> 122
    # (10 - 122 % 10) % 10 = 8
    assert brn_check_digit("124810099") == 8


@given(nine_digits)
def test_every_number_with_its_check_digit_is_valid(first):
    number = first + str(brn_check_digit(first))
    assert BRN.validate_python(number) == number


@given(nine_digits, st.integers(1, 9))
def test_any_other_check_digit_is_refused_with_rule_a1(first, shift):
    wrong = first + str((brn_check_digit(first) + shift) % 10)
    with pytest.raises(ValidationError) as info:
        BRN.validate_python(wrong)
    assert info.value.errors()[0]["type"] == "A1"


@pytest.mark.parametrize("bad", ["124810099", "12481009988", "12481009a8", ""])
def test_not_ten_digits_is_refused(bad):
    with pytest.raises(ValidationError) as info:
        BRN.validate_python(bad)
    assert info.value.errors()[0]["type"] == "A1"


def test_hyphenated_form_is_accepted_in_the_company_profile():
    from sme_schemas.examples import EXAMPLES

    company = dict(EXAMPLES["ApplicationSubmitted"]["content"]["company"], business_registration_number="124-81-00998")
    assert CompanyProfile.model_validate(company).business_registration_number == "1248100998"
