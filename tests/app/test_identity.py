"""Identity: the address a limit counts, the owner a history belongs to, and what neither can be
made of by a client that writes its own headers and values."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from kling.app.identity import (
    UNKNOWN_ADDRESS,
    address_key,
    client_address,
    identify,
    may_spend_server_key,
    new_browser_token,
    owner_for,
    parse_address,
    state_secret,
    verify_browser_token,
    visitor_key,
)
from kling.config import Settings

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
PEER = "10.0.0.7"


def xff(value: str) -> dict[str, str]:
    return {"x-forwarded-for": value}


# -- addresses --------------------------------------------------------------------------------


def test_with_no_proxy_the_socket_peer_is_the_address_whatever_the_header_says():
    assert client_address(PEER, xff("1.1.1.1, 2.2.2.2"), on_space=False, trusted_proxies=0) == PEER


def test_on_a_space_the_entry_the_proxy_appended_counts_and_forged_ones_change_nothing():
    real = "203.0.113.9"
    addresses = {
        client_address(PEER, xff(f"{forged}, {real}"), on_space=True, trusted_proxies=0)
        for forged in ("1.1.1.1", "2.2.2.2, 3.3.3.3", "not-an-ip", "", "::1")
    }
    assert addresses == {real}


def test_behind_n_trusted_proxies_the_nth_entry_from_the_right_counts():
    chain = "6.6.6.6, 198.51.100.4, 10.1.1.1"  # forged, visitor (seen by the outer proxy), outer proxy
    assert client_address(PEER, xff(chain), on_space=False, trusted_proxies=2) == "198.51.100.4"
    assert client_address(PEER, xff(chain), on_space=False, trusted_proxies=1) == "10.1.1.1"


def test_a_chain_shorter_than_the_trusted_hops_falls_back_to_the_peer():
    # The request did not come through every trusted proxy: its header is entirely the client's.
    assert client_address(PEER, xff("1.1.1.1"), on_space=False, trusted_proxies=2) == PEER
    assert client_address(PEER, {}, on_space=True, trusted_proxies=0) == PEER


@pytest.mark.parametrize(
    "header",
    ["", " ", ",,,", "garbage", "1.2.3.4, <script>", "1.2.3.4, 999.1.1.1", "1.2.3.4," + "x" * 100, "\x00"],
)
def test_garbage_in_the_trusted_entry_gives_the_peer(header):
    assert client_address(PEER, xff(header), on_space=True, trusted_proxies=0) == PEER


def test_an_over_long_header_is_read_from_its_tail_only():
    header = ", ".join(f"1.2.{i % 256}.{i // 256 % 256}" for i in range(100_000)) + ", 203.0.113.5"
    assert len(header) > 1_000_000
    assert client_address(PEER, xff(header), on_space=True, trusted_proxies=0) == "203.0.113.5"


def test_several_header_lines_are_one_chain_and_the_last_line_is_the_proxys():
    headers = Headers(raw=[(b"x-forwarded-for", b"1.1.1.1, 2.2.2.2"), (b"x-forwarded-for", b"203.0.113.8")])
    assert client_address(PEER, headers, on_space=True, trusted_proxies=0) == "203.0.113.8"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("203.0.113.1", "203.0.113.1"),
        (" 203.0.113.1:4431 ", "203.0.113.1"),
        ('"203.0.113.1"', "203.0.113.1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:203.0.113.1", "203.0.113.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("unknown", None),
        ("", None),
        ("1" * 200, None),
        ("testclient", None),
    ],
)
def test_addresses_are_parsed_and_normalised(raw, parsed):
    assert parse_address(raw) == parsed


def test_a_peer_that_is_not_an_address_is_unknown():
    assert client_address("testclient", {}, on_space=False, trusted_proxies=0) == UNKNOWN_ADDRESS


def test_ipv6_addresses_count_per_64_so_a_household_cannot_rotate_within_its_block():
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("203.0.113.1") == "203.0.113.1"
    assert address_key("garbage") == UNKNOWN_ADDRESS


# -- browser tokens and owners --------------------------------------------------------------------


def test_a_token_this_server_signed_is_accepted_and_names_its_browser():
    token = new_browser_token(SECRET)
    browser_id = verify_browser_token(token, SECRET)
    assert browser_id is not None and token.startswith(browser_id + ".")
    assert owner_for(username=None, browser_token=token, secret=SECRET) == f"web:{browser_id}"


def test_tokens_are_different_each_time():
    assert len({new_browser_token(SECRET) for _ in range(50)}) == 50


def forged_tokens() -> dict[str, str | None]:
    """Forged tokens by name (the names are the test ids: the tokens are random, the ids must not be)."""
    good = new_browser_token(SECRET)
    browser_id, _, signature = good.partition(".")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    return {
        "none": None,
        "empty": "",
        "cli": "cli",
        "api-owner": "api-abc123",
        "id-without-signature": browser_id,
        "one-character-off": f"{browser_id}.{flipped}",
        "empty-signature": f"{browser_id}.",
        "another-ids-signature": f"{'0' * 32}.{signature}",
        "another-servers-token": new_browser_token(OTHER_SECRET),
        "trailing-garbage": good + "x",
        "upper-cased": good.upper(),
        "cli-with-signature": f"cli.{signature}",
        "spaces": " " * 10,
        "300-dots": "." * 300,
        "two-signatures": good + "." + signature,
    }


FORGED = forged_tokens()


@pytest.mark.parametrize("token", FORGED.values(), ids=FORGED.keys())
def test_forged_tokens_give_no_owner(token):
    assert verify_browser_token(token, SECRET) is None
    assert owner_for(username=None, browser_token=token, secret=SECRET) == ""


def test_one_browsers_signature_does_not_sign_another_browsers_id():
    mine, theirs = new_browser_token(SECRET), new_browser_token(SECRET)
    their_id = theirs.partition(".")[0]
    stolen = f"{their_id}.{mine.partition('.')[2]}"
    assert verify_browser_token(stolen, SECRET) is None


def test_a_signed_in_username_wins_and_is_prefixed():
    token = new_browser_token(SECRET)
    assert owner_for(username="alice", browser_token=token, secret=SECRET) == "hf:alice"


@pytest.mark.parametrize("name", ["", " ", "../cli", "a b", "x" * 200, "a\x00b", "-leading"])
def test_a_username_that_is_not_one_is_ignored(name):
    assert owner_for(username=name, browser_token=None, secret=SECRET) == ""


@pytest.mark.parametrize("value", ["cli", "api-0123456789abcdef", "0123456789abcdef0123456789abcdef"])
def test_no_value_a_client_sends_reaches_the_command_line_an_api_session_or_an_old_owner(value):
    owners = {
        owner_for(username=value, browser_token=value, secret=SECRET),
        owner_for(username=None, browser_token=value, secret=SECRET),
        identify(username=None, browser_token=value, address="1.2.3.4", secret=SECRET).owner,
    }
    assert value not in owners
    assert all(o == "" or o.startswith(("hf:", "web:")) for o in owners)


def test_identify_mints_a_token_for_a_browser_without_a_valid_one_and_keeps_a_valid_one():
    fresh = identify(username=None, browser_token="forged", address="203.0.113.1", secret=SECRET)
    assert fresh.browser_token != "forged" and verify_browser_token(fresh.browser_token, SECRET)
    assert fresh.owner == f"web:{verify_browser_token(fresh.browser_token, SECRET)}"
    again = identify(username=None, browser_token=fresh.browser_token, address="203.0.113.1", secret=SECRET)
    assert again.owner == fresh.owner and again.browser_token == fresh.browser_token


# -- what limits count by -----------------------------------------------------------------------


def test_limits_key_on_the_username_when_signed_in_else_the_address_never_the_browser():
    assert visitor_key(username="alice", address="203.0.113.1") == "hf:alice"
    assert visitor_key(username="alice", address="198.51.100.2") == "hf:alice"
    assert visitor_key(username=None, address="203.0.113.1") == "ip:203.0.113.1"
    # Two new browsers (or gradio_client sessions) from one address are one visitor.
    a = identify(username=None, browser_token=None, address="203.0.113.1", secret=SECRET)
    b = identify(username=None, browser_token=None, address="203.0.113.1", secret=SECRET)
    assert a.owner != b.owner and a.visitor == b.visitor == "ip:203.0.113.1"
    assert identify(username="bob", browser_token=None, address="::1", secret=SECRET).visitor == "hf:bob"


@pytest.mark.parametrize(
    ("require_login", "signed_in", "own_key", "preview", "allowed"),
    [
        (False, False, False, False, True),
        (True, False, False, False, False),
        (True, True, False, False, True),
        (True, False, True, False, True),
        (True, False, False, True, True),
    ],
)
def test_require_login_keeps_only_anonymous_spending_of_the_servers_key_out(
    require_login, signed_in, own_key, preview, allowed
):
    assert may_spend_server_key(require_login=require_login, signed_in=signed_in, own_key=own_key, preview=preview) == (
        allowed
    )


# -- the secret and the settings ----------------------------------------------------------------


def test_the_state_secret_comes_from_the_setting_or_from_one_kept_in_the_data_folder(tmp_path):
    assert state_secret("abc", tmp_path) == state_secret("abc", tmp_path / "elsewhere") != state_secret("abd", tmp_path)
    first = state_secret(None, tmp_path / "data")
    assert state_secret(None, tmp_path / "data") == first  # survives a restart
    assert (tmp_path / "data" / ".state-secret").stat().st_mode & 0o077 == 0
    assert state_secret(None, tmp_path / "other") != first
    (tmp_path / "data" / ".state-secret").write_text("garbage")
    replaced = state_secret(None, tmp_path / "data")
    assert len(replaced) == 32 and replaced != first


def test_identity_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "KLING_TRUSTED_PROXIES": "2",
            "KLING_REQUIRE_LOGIN": "1",
            "SPACE_ID": "me/kling",
            "KLING_STATE_SECRET": "s3",
            "KLING_MAX_UPLOAD": "15MB",
        }
    )
    assert (settings.trusted_proxies, settings.require_login, settings.on_space) == (2, True, True)
    assert settings.gradio_max_file_size == "15mb" and "s3" not in repr(settings)
    default = Settings.from_env({})
    assert (default.trusted_proxies, default.require_login, default.on_space) == (0, False, False)
    assert default.gradio_max_file_size == Settings().gradio_max_file_size == "20mb"


@pytest.mark.parametrize(
    ("name", "value"),
    [("KLING_TRUSTED_PROXIES", "-1"), ("KLING_TRUSTED_PROXIES", "two"), ("KLING_MAX_UPLOAD", "lots")],
)
def test_bad_identity_settings_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
