"""Token counting works offline from the encoding litellm bundles."""

from predictors.tokens import count_message_tokens, count_tokens, encoding, truncate_tokens


def test_count_tokens_matches_known_cl100k_ids() -> None:
    # "hello world" is two cl100k tokens: 15339 ("hello") and 1917 (" world").
    assert encoding().encode_ordinary("hello world") == [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0


def test_message_tokens_add_chat_overhead() -> None:
    messages = [{"role": "user", "content": "hello world"}]
    assert count_message_tokens(messages) == 2 + 3 + 3


def test_truncate_keeps_at_most_n_tokens() -> None:
    text = "one two three four five"
    cut = truncate_tokens(text, 2)
    assert count_tokens(cut) == 2
    assert text.startswith(cut)
    assert truncate_tokens(text, 100) == text
