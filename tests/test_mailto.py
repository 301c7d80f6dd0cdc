from urllib.parse import unquote


def test_to_and_bcc(mailto):
    url = mailto.build_mailto(to=["me@example.com"], bcc=["a@x.be", "b@y.be"])
    assert url == "mailto:me@example.com?bcc=a@x.be,b@y.be"
    assert mailto.build_mailto(to=["a@x.be", "b@y.be"]) == "mailto:a@x.be,b@y.be"


def test_encoding(mailto):
    url = mailto.build_mailto(to=["a+b@x.be", "c&d@x.be", "e%f@x.be"])
    assert url == "mailto:a%2Bb@x.be,c%26d@x.be,e%25f@x.be"
    assert unquote(url) == "mailto:a+b@x.be,c&d@x.be,e%f@x.be"


def test_idn_domain_is_encoded(mailto):
    url = mailto.build_mailto(to=["jean@exämple.be"])
    assert url == "mailto:jean@ex%C3%A4mple.be"


def test_length_limit(mailto):
    assert mailto.MAX_MAILTO_LENGTH == 2000
