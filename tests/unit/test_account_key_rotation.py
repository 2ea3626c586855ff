"""Payments can rotate the key of bank accounts at rest without losing the rows sealed with the old one."""
import pytest
from cryptography.fernet import Fernet

from payments.accounts import AccountVault
from payments.config import PaymentsSettings

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_an_account_sealed_with_the_old_key_opens_after_the_new_key_is_put_in_front():
    sealed = AccountVault(OLD).seal("123-456-789012")
    rotated_vault = AccountVault(f"{NEW},{OLD}")
    assert rotated_vault.open(sealed) == "123456789012"
    resealed = rotated_vault.rotate(sealed)
    assert AccountVault(NEW).open(resealed) == "123456789012"  # the old key can now be dropped
    with pytest.raises(ValueError, match="no longer listed"):
        AccountVault(NEW).open(sealed)


def test_new_accounts_are_sealed_with_the_first_key():
    assert AccountVault(NEW).open(AccountVault(f"{NEW},{OLD}").seal("110-222-333444")) == "110222333444"


def test_a_key_that_is_not_a_fernet_key_is_refused_by_position():
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        PaymentsSettings(account_key=f"{NEW},not-a-key")
