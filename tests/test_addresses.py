import pytest


@pytest.mark.parametrize(
    ("text", "valid", "invalid"),
    [
        ("a@x.example;;b@y.example", ["a@x.example", "b@y.example"], []),
        (" a@x.example ; ", ["a@x.example"], []),
        ("Name <a@x.example>", ["a@x.example"], []),
        ("a@x.example, b@y.example", ["a@x.example", "b@y.example"], []),
        ('"Doe, John" <j@x.example>; k@x.example', ["j@x.example", "k@x.example"], []),
        ("a@X.Example; A@x.example", ["a@x.example"], []),
        ("jean@exämple.be", ["jean@xn--exmple-cua.be"], []),
        ("not-an-address", [], ["not-an-address"]),
        ("a@x.example; broken@", ["a@x.example"], ["broken@"]),
        (
            "a@x.example\r\nBcc: evil@x.example",
            [],
            ["a@x.example", "Bcc: evil@x.example"],
        ),
        ("", [], []),
        (None, [], []),
    ],
)
def test_split_recipients(addresses, text, valid, invalid):
    assert addresses.split_recipients(text) == (valid, invalid)


def test_two_hundred_recipients(addresses):
    text = "; ".join(f"person{i}@example.com" for i in range(200))
    valid, invalid = addresses.split_recipients(text)
    assert len(valid) == 200
    assert not invalid
