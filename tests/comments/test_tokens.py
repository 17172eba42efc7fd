from comments.tokens import form_timestamp_age, form_timestamp_make


def test_a_form_timestamp_gives_its_age():
    token = form_timestamp_make(now=1000)
    assert form_timestamp_age(token, now=1007) == 7


def test_a_tampered_form_timestamp_has_no_age():
    real = form_timestamp_make(now=1000)
    earlier = form_timestamp_make(now=1)
    forged = earlier.split(":", 1)[0] + ":" + real.split(":", 1)[1]
    assert form_timestamp_age(forged, now=1007) is None
    assert form_timestamp_age("", now=1007) is None
