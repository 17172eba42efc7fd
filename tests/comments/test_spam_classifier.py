import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from comments import spam
from comments.spam import SpamModel, SpamModelError, SpamSample
from tests.conftest import skip_or_fail

YOUTUBE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "spam" / "youtube"

HAM = [
    "The export quota numbers in this piece don't match the ministry's own release.",
    "Good analysis. I wonder how the new refinery in Texas changes the picture.",
    "Neodymium prices fell last quarter, so I'm not sure the premium will last.",
    "Thanks for the clear explanation of the separation process.",
    "Does anyone know when the environmental review is due?",
    "I worked at a mine in Western Australia; the permitting really is that slow.",
    "Interesting, but the article ignores recycling of magnets entirely.",
    "Could you link to the original report? I'd like to read the methodology.",
    "This is the third delay this year. Investors should be asking questions.",
    "Great reporting as always, keep it up.",
    "The tariff angle seems overstated to me, most supply goes through Malaysia.",
    "I disagree with the conclusion but the data section is excellent.",
    "Is dysprosium included in the figures or only the light rare earths?",
    "My town voted against the processing plant last spring, for water reasons.",
    "Small correction: the company is listed in Toronto, not Sydney.",
    "How does this compare with the 2010 export restrictions?",
]
SPAM = [
    "CHECK OUT MY CHANNEL!!! http://cheap-followers.example.ru subscribe now!!!",
    "Make $5000 a week from home!!! visit www.easy-cash-now.biz",
    "Buy cheap viagra online http://pills-discount.tk best prices",
    "subscribe to my channel subscribe subscribe subscribe http://bit.ly/xyz",
    "FREE iPhone giveaway click here http://free-prizes.xyz/win",
    "Earn money fast fast fast, work from home, visit http://money4u.biz",
    "hey guys check out my new video http://youtu.be/abc please like and subscribe",
    "Best casino bonus 200% http://casino-royal.ru/bonus click now!!!",
    "Cheap followers and likes http://followers.example.tk",
    "WIN WIN WIN free gift cards http://gift-card.xyz",
    "Lose 20 pounds in 2 weeks!!! http://slim-fast-pills.biz",
    "Hot singles in your area http://dating-now.ru click",
    "Get rich with crypto, guaranteed returns http://crypto-bonanza.biz",
    "Visit my website for cheap replica watches http://replica.tk",
    "Promote your business!!! http://seo-backlinks.ru cheap backlinks",
    "click here click here http://free-stuff.xyz free free free",
]
AUTHORS = ["Ann Lee", "Brook", "C. Diaz", "Dana Whitfield"]
SPAMMERS = ["Cheap Followers", "MoneyMaker2013", "Best Casino", "Free iPhone"]


def fixture_samples() -> list[SpamSample]:
    ham = [
        SpamSample(
            body=text, author_name=AUTHORS[i % 4], author_email="reader@example.org", label=False
        )
        for i, text in enumerate(HAM)
    ]
    junk = [
        SpamSample(
            body=text,
            author_name=SPAMMERS[i % 4],
            author_email="x@promo.example.ru",
            author_url="http://promo.example.ru",
            label=True,
        )
        for i, text in enumerate(SPAM)
    ]
    return ham + junk


@pytest.fixture(scope="module")
def model() -> SpamModel:
    return spam.train(fixture_samples(), seed=0)


OBVIOUS_SPAM = SpamSample(
    body="FREE followers!!! click here http://cheap-likes.example.tk subscribe subscribe",
    author_name="Cheap Likes",
    author_url="http://cheap-likes.example.tk",
)
OBVIOUS_HAM = SpamSample(
    body="The refinery permit hearing is next month; does anyone know the exact date?",
    author_name="Maria Gonzalez",
    author_email="maria@example.org",
)


def test_it_scores_obvious_spam_above_obvious_ham(model):
    assert model.score(OBVIOUS_SPAM) > 0.8
    assert model.score(OBVIOUS_HAM) < 0.2


def test_it_scores_every_sample_in_the_unit_interval(model):
    odd = [
        SpamSample(body=""),
        SpamSample(body="!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"),
        SpamSample(body="\ufeff\u200b"),
        SpamSample(body="a" * 20000, author_name="é" * 300, author_email="no-at-sign"),
        SpamSample(body="http://[::1", author_url="http://[bad"),
    ]
    scores = model.score_many([*odd, OBVIOUS_SPAM, OBVIOUS_HAM])
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert [model.score(s) for s in odd] == pytest.approx(scores[: len(odd)])


def test_single_and_batch_scores_agree(model):
    samples = fixture_samples()
    assert [model.score(s) for s in samples] == pytest.approx(model.score_many(samples))


def test_score_many_of_nothing_is_empty(model):
    assert model.score_many([]) == []


def test_it_ignores_markup_and_entities_when_building_features():
    plain = spam.sample_features(SpamSample(body="don't go\nsee http://x.example.com now"))
    marked = spam.sample_features(
        SpamSample(body='don&#39;t go<br />see <a href="http://x.example.com">now</a>\ufeff')
    )
    assert {name for name, _ in plain if name.startswith("d:")} == {
        name for name, _ in marked if name.startswith("d:")
    }
    assert "w:don" in dict(marked)


def test_a_link_to_a_moment_of_the_video_is_not_a_link():
    timestamp = '<a href="http://www.youtube.com/watch?v=KQ6&amp;t=2m19s">2:19</a> best part'
    features = dict(spam.sample_features(SpamSample(body=timestamp)))
    assert not [name for name in features if name.startswith("d:")]
    assert features["n:no_links"] == 1.0
    assert "w:best part" in features


def test_a_spaced_out_domain_is_still_a_link():
    features = dict(spam.sample_features(SpamSample(body="earn at marketglory . com/game")))
    assert features["d:link=marketglory.com"] == 1.0
    prose = dict(spam.sample_features(SpamSample(body="I agree with us. Me too. So it. Co")))
    assert not [name for name in prose if name.startswith("d:")]


def test_a_domain_of_any_top_level_domain_with_a_path_is_a_link():
    features = dict(spam.sample_features(SpamSample(body="She loves Vena. trojmiasto.pl/Vena")))
    assert features["d:link=trojmiasto.pl"] == 1.0
    prose = dict(spam.sample_features(SpamSample(body="Nobody saw it.so what? 1/2 of us")))
    assert not [name for name in prose if name.startswith("d:")]


def test_it_counts_links_website_and_email_domains():
    features = dict(
        spam.sample_features(
            SpamSample(
                body="see http://a.example.com and www.b.example.net",
                author_url="https://www.shop.example.biz/x",
                author_email="Ann@Mail.Example.ORG",
            )
        )
    )
    assert features["d:link=a.example.com"] == 1.0
    assert features["d:link=b.example.net"] == 1.0
    assert features["d:site=shop.example.biz"] == 1.0
    assert features["d:email=mail.example.org"] == 1.0
    assert features["n:links"] == pytest.approx(2 / 5)


def test_it_measures_shouting_and_repetition():
    calm = dict(spam.sample_features(SpamSample(body="a quiet remark about prices")))
    loud = dict(spam.sample_features(SpamSample(body="BUY NOW NOW NOW!!!!!!")))
    assert loud["n:caps"] == 1.0 and calm["n:caps"] == 0.0
    assert loud["n:repeat_words"] > calm["n:repeat_words"]
    assert loud["n:repeat_chars"] > calm.get("n:repeat_chars", 0.0)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Check out my new video guys", "k:promo_look"),
        ("hey everyone visit our channel", "k:promo_own"),
        ("sub to me and i sub back", "k:promo_follow"),
        ("Like this comment if you are watching in 2015", "k:bait_like"),
        ("thumbs up if you came here for the chorus", "k:bait_like"),
        ("SHARE THIS TO 666 PEOPLE TO BE UNSPOOKED", "k:bait_like"),
        ("please share and subscribe", "k:bait_please"),
        ("Earn $500 a day from home", "k:money"),
        ("I made a gaming channel :) Angry Minecraft!", "k:promo_self"),
        ("Hey I'm a new youtuber", "k:promo_self"),
        ('Search "Chubbz Dinero - Ready Or Not" Thanks', "k:promo_self"),
        ("Like this comment for no reason", "k:cta"),
        ("Check me out I'm all about gaming", "k:cta"),
        ("Check out: My Hood Doh, by Flixter", "k:cta"),
        ("if i reach 100 subscribers i will shave my head", "k:cta"),
    ],
)
def test_it_gives_promotion_and_bait_cues_one_shared_feature(text, cue):
    # A cue counts double: it is what carries over to a video the model never saw.
    assert dict(spam.sample_features(SpamSample(body=text)))[cue] == 2.0


# "subscribe to my channel" with Cyrillic s, c, i and e, and "visit" with a Greek nu.
DISGUISED = "\u0455ub\u0455\u0441r\u0456b\u0435 to my channel, \u03bdisit my page"


def test_homoglyphs_read_as_the_latin_letters_they_imitate():
    disguised = dict(spam.sample_features(SpamSample(body=DISGUISED)))
    plain = dict(spam.sample_features(SpamSample(body="subscribe to my channel, visit my page")))
    assert disguised == plain
    assert "w:subscribe" in disguised


def test_words_wholly_in_another_script_are_left_alone():
    features = dict(spam.sample_features(SpamSample(body="\u043f\u0440\u0438\u0432\u0435\u0442")))
    assert "w:\u043f\u0440\u0438\u0432\u0435\u0442" in features


@pytest.mark.parametrize(
    "text",
    [
        "s u b s c r i b e to my channel",
        "S.U.B.S.C.R.I.B.E to my channel",
        "s-u-b-s-c-r-i-b-e to my channel",
    ],
)
def test_spaced_out_letters_are_read_as_one_word(text):
    features = dict(spam.sample_features(SpamSample(body=text)))
    assert "w:subscribe" in features
    assert features["k:promo_own"] == 2.0


def test_ordinary_short_words_are_not_joined():
    def words(text):
        return {n for n, _ in spam.sample_features(SpamSample(body=text)) if n.startswith("w:")}

    assert {"w:i", "w:am", "w:a", "w:fan"} <= words("I am a fan")
    assert {"w:e", "w:g"} <= words("e.g. this")  # two letters are not a spaced-out word
    assert "w:abc" in words("a-b-c d")


def test_ordinary_remarks_carry_no_promotion_cue():
    remarks = [
        *HAM,
        "I help my dad run a hardware shop, and magnet prices doubled.",
        "I share my neighbours' doubts about the water permit.",
        "I have a question about the tailings dam.",
    ]
    for text in remarks:
        names = {name for name, _ in spam.sample_features(SpamSample(body=text))}
        assert not {name for name in names if name.startswith("k:")}, text


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("thumb up if you watching in 2015 and you like it", "k:cta"),
        ("Like if you came here to see how many views this song has.", "k:cta"),
        ("Lets make it the first to reach one billion! Share it and replay it!", "k:cta"),
        ("Lets make it the first to reach one billion! Share it and replay it!", "k:money"),
        ("u make me smile when im sad", "k:money"),
        ("where did she find all that make up", "k:money"),
    ],
)
def test_readers_polls_and_ordinary_make_are_no_call_to_action_or_money(text, cue):
    # Polls and "share it" are bait (bait_like) but not the heavily weighted cta: the
    # videos' labels split on them. "make" alone is ordinary speech, not money.
    assert cue not in dict(spam.sample_features(SpamSample(body=text)))


def test_thresholds_are_chosen_from_ham_scores_under_the_limits():
    ham = [i / 100 for i in range(100)]  # one ham at each score 0.00 .. 0.99
    scores, labels = [*ham, 0.99], [False] * 100 + [True]
    spam_t, hold_t = spam.thresholds_choose(scores, labels, ham_spam_max=0.02, ham_held_max=0.10)
    assert spam_t == 0.98  # ham at 0.98 and 0.99: 2%
    assert hold_t == 0.9  # ham from 0.90 to 0.97: 8%; from 0.85 it would be 13%
    with pytest.raises(ValueError, match="ham"):
        spam.thresholds_choose([0.5], [True])


def test_the_spam_threshold_is_chosen_in_finer_steps_above_099():
    ham = [i / 1000 for i in range(1000)]  # one ham at each score 0.000 .. 0.999
    spam_t, _ = spam.thresholds_choose(ham, [False] * 1000, ham_spam_max=0.005)
    assert spam_t == 0.995  # 0.995 .. 0.999: five ham, 0.5%


def test_training_refuses_unlabelled_or_one_class_data():
    with pytest.raises(ValueError, match="label"):
        spam.train([SpamSample(body="x", label=True), SpamSample(body="y")])
    with pytest.raises(ValueError, match="both"):
        spam.train([SpamSample(body="x", label=True), SpamSample(body="y", label=True)])


def test_training_is_reproducible_with_a_seed():
    first, second = spam.train(fixture_samples(), seed=3), spam.train(fixture_samples(), seed=3)
    assert first.score_many(fixture_samples()) == second.score_many(fixture_samples())


# --- thresholds and evaluation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.95, "spam"),
        (0.9, "spam"),
        (0.89, "held"),
        (0.5, "held"),
        (0.49, "approved"),
        (0.0, "approved"),
    ],
)
def test_thresholds_turn_scores_into_verdicts(score, expected):
    assert spam.verdict(score, spam_threshold=0.9, hold_threshold=0.5) == expected


def test_evaluation_counts_each_verdict_per_true_class():
    scores = [0.99, 0.95, 0.6, 0.1, 0.97, 0.7, 0.2, 0.1]
    labels = [True, True, True, True, False, False, False, False]
    result = spam.evaluate_scores(scores, labels, spam_threshold=0.9, hold_threshold=0.5)
    assert {k: result[k] for k in spam.EVALUATION_COUNTS} == {
        "spam_marked_spam": 2,
        "spam_held": 1,
        "spam_approved": 1,
        "ham_marked_spam": 1,
        "ham_held": 1,
        "ham_approved": 2,
    }
    assert result["n"] == 8
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 4)
    assert result["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_evaluate_scores_a_model_on_labelled_samples(model):
    result = spam.evaluate(model, fixture_samples(), spam_threshold=0.9, hold_threshold=0.5)
    assert set(result) == {*spam.EVALUATION_COUNTS, "precision", "recall", "f1", "n"}
    assert result["n"] == len(fixture_samples())
    assert result["ham_marked_spam"] == 0


def test_evaluate_refuses_unlabelled_samples(model):
    with pytest.raises(ValueError, match="label"):
        spam.evaluate(model, [SpamSample(body="x")], spam_threshold=0.9, hold_threshold=0.5)


def test_default_thresholds_are_ordered():
    assert 0.0 < spam.DEFAULT_HOLD_THRESHOLD < spam.DEFAULT_SPAM_THRESHOLD < 1.0


# --- persistence ------------------------------------------------------------------------


def test_a_model_built_for_other_features_is_refused(model, monkeypatch):
    monkeypatch.setattr("comments.spam.model.FEATURE_SPEC", "reex-spam-features/0")
    older = model.to_bytes()
    monkeypatch.undo()
    with pytest.raises(SpamModelError, match="reex-spam-features/0"):
        SpamModel.from_bytes(older)


def test_round_trip_through_bytes_gives_identical_scores(model):
    loaded = SpamModel.from_bytes(model.to_bytes())
    samples = [*fixture_samples(), OBVIOUS_SPAM, OBVIOUS_HAM]
    assert loaded.score_many(samples) == model.score_many(samples)
    assert [loaded.score(s) for s in samples] == [model.score(s) for s in samples]
    assert loaded.meta["n"] == len(fixture_samples())


EXPLODED: list[str] = []


def _explode() -> list[str]:
    EXPLODED.append("code ran")
    return EXPLODED


class Payload:
    def __reduce__(self):
        return (_explode, ())


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _crafted_payloads(model: SpamModel) -> dict[str, bytes]:
    good = model.to_bytes()
    with np.load(io.BytesIO(good[len(spam.FORMAT_MAGIC) :])) as archive:
        arrays = {name: archive[name] for name in archive.files}
    pickled_values = np.array([Payload()], dtype=object)
    return {
        "plain pickle": pickle.dumps(Payload()),
        "pickle behind the header": spam.FORMAT_MAGIC + pickle.dumps(Payload()),
        "object array in the archive": spam.FORMAT_MAGIC
        + _npz(**{**arrays, "values": pickled_values}),
        "extra member": spam.FORMAT_MAGIC + _npz(**arrays, extra=np.zeros(1)),
        "index out of range": spam.FORMAT_MAGIC
        + _npz(**{**arrays, "indices": np.array([2**40] * len(arrays["indices"]))}),
        "other feature spec": spam.FORMAT_MAGIC
        + _npz(**{**arrays, "meta": np.frombuffer(b'{"feature_spec": "old"}', np.uint8)}),
        "truncated": good[: len(good) // 2],
        "empty": b"",
    }


def test_loading_crafted_bytes_is_refused_without_running_them(model):
    for name, payload in _crafted_payloads(model).items():
        with pytest.raises(SpamModelError):
            SpamModel.from_bytes(payload)
        assert EXPLODED == [], name


def test_the_crafted_pickle_would_run_code_if_unpickled():
    # Proves the payload above is live, so refusing it means something.
    pickle.loads(pickle.dumps(Payload()))  # noqa: S301
    assert EXPLODED == ["code ran"]
    EXPLODED.clear()


def test_stored_model_is_a_plain_archive(model):
    data = model.to_bytes()
    assert data.startswith(spam.FORMAT_MAGIC)
    with zipfile.ZipFile(io.BytesIO(data[len(spam.FORMAT_MAGIC) :])) as archive:
        assert sorted(archive.namelist()) == [
            "indices.npy",
            "meta.npy",
            "scalars.npy",
            "values.npy",
        ]


# --- CSV --------------------------------------------------------------------------------


def test_load_csv_reads_youtube_style_files(tmp_path):
    path = tmp_path / "yt.csv"
    path.write_text(
        "\ufeffCOMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
        'id1,Ann,2014-01-01,"line one\nline two, with comma ""quoted""\ufeff",0\n'
        "id2,Spammer,2014-01-02,check out my channel\ufeff,1\n",
        encoding="utf-8",
    )
    samples = spam.load_csv(path)
    assert samples == [
        SpamSample(
            body='line one\nline two, with comma "quoted"\ufeff', author_name="Ann", label=False
        ),
        SpamSample(body="check out my channel\ufeff", author_name="Spammer", label=True),
    ]


@pytest.mark.parametrize("text_column", ["text", "body"])
def test_load_csv_reads_text_and_label_columns(tmp_path, text_column):
    path = tmp_path / "plain.csv"
    path.write_text(
        f"label,{text_column}\nspam,Buy now\nham,Nice article\nSPAM ,x\n", encoding="utf-8"
    )
    assert [(s.body, s.label, s.author_name) for s in spam.load_csv(path)] == [
        ("Buy now", True, ""),
        ("Nice article", False, ""),
        ("x", True, ""),
    ]


def test_load_csv_names_a_missing_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("message,CLASS\nhello,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="CONTENT, text, body"):
        spam.load_csv(path)


def test_load_csv_names_the_row_with_a_bad_label(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,0\nbye,maybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 3"):
        spam.load_csv(path)


# --- the shared YouTube files -----------------------------------------------------------

# Leave-one-file-out at the default thresholds (bench/spam_bench.py) gives pooled: ham marked
# spam 0.4% (2 of 552), spam marked spam 92.3%, spam approved 1.9%, ham held 4.0%; worst
# fold: ham marked spam 0.6% (1 of 175), spam approved 3.0% (7 of 236), ham held 7.4% (13 of
# 175). Features 6 gave 0.4%, 88.1%, 1.7%, 4.5%; features 4 at 0.98 0.4%, 87.2%, 1.9%,
# 5.3%. The limits leave a small margin so that a regression fails.
LOFO_LIMITS = {
    "pooled_ham_marked_spam_max": 0.008,
    "fold_ham_marked_spam_max": 0.015,
    "pooled_spam_marked_spam_min": 0.91,
    "pooled_spam_approved_max": 0.02,
    "fold_spam_approved_max": 0.035,
    "pooled_ham_held_max": 0.055,
    "fold_ham_held_max": 0.08,
}
# Nested: each held-out file is judged at the thresholds thresholds_choose() picks from the
# other two files' own leave-one-file-out, so nothing about it is used: the nearest the
# shared data comes to a video never seen. Pooled: 92.2% spam marked, 1.9% approved, ham
# marked spam 0.5% (3 of 552), ham held 4.5% (features 6: 88.4%, 1.7%, 0.5%, 4.3%;
# features 4: 86.3%, 1.9%, 0.5%, 4.2%).
NESTED_LIMITS = {
    "ham_marked_spam_max": 0.006,
    "spam_marked_spam_min": 0.91,
    "spam_approved_max": 0.02,
    "ham_held_max": 0.055,
}


def _youtube_files():
    files = sorted(YOUTUBE.glob("*.csv"))
    if len(files) < 3:
        skip_or_fail(f"the shared YouTube spam files are absent from {YOUTUBE}")
    return {path.name: spam.load_csv(path) for path in files}


def _rates(result):
    n_spam = result["spam_marked_spam"] + result["spam_held"] + result["spam_approved"]
    n_ham = result["n"] - n_spam
    return {
        "ham_marked_spam": result["ham_marked_spam"] / n_ham,
        "spam_marked_spam": result["spam_marked_spam"] / n_spam,
        "spam_approved": result["spam_approved"] / n_spam,
        "ham_held": result["ham_held"] / n_ham,
    }


def test_leave_one_file_out_on_the_youtube_files_meets_the_recorded_figures():
    folds = spam.leave_one_out(_youtube_files())
    thresholds = {
        "spam_threshold": spam.DEFAULT_SPAM_THRESHOLD,
        "hold_threshold": spam.DEFAULT_HOLD_THRESHOLD,
    }
    per_fold = {
        name: _rates(spam.evaluate_scores(s, lb, **thresholds)) for name, (s, lb) in folds.items()
    }
    pooled = _rates(
        spam.evaluate_scores(
            [x for s, _ in folds.values() for x in s],
            [x for _, lb in folds.values() for x in lb],
            **thresholds,
        )
    )
    limits = LOFO_LIMITS
    assert pooled["ham_marked_spam"] <= limits["pooled_ham_marked_spam_max"], pooled
    assert pooled["spam_marked_spam"] >= limits["pooled_spam_marked_spam_min"], pooled
    assert pooled["spam_approved"] <= limits["pooled_spam_approved_max"], pooled
    assert pooled["ham_held"] <= limits["pooled_ham_held_max"], pooled
    for name, rates in per_fold.items():
        assert rates["ham_marked_spam"] <= limits["fold_ham_marked_spam_max"], (name, rates)
        assert rates["ham_held"] <= limits["fold_ham_held_max"], (name, rates)
        assert rates["spam_approved"] <= limits["fold_spam_approved_max"], (name, rates)


def test_thresholds_chosen_without_the_held_out_file_meet_the_recorded_figures():
    youtube = _youtube_files()
    verdicts, labels = [], []
    for held_out, (scores, held_labels) in spam.leave_one_out(youtube).items():
        inner = spam.leave_one_out({k: v for k, v in youtube.items() if k != held_out})
        spam_t, hold_t = spam.thresholds_choose(
            [x for s, _ in inner.values() for x in s], [x for _, lb in inner.values() for x in lb]
        )
        verdicts += [spam.verdict(s, spam_threshold=spam_t, hold_threshold=hold_t) for s in scores]
        labels += held_labels
    rates = _rates(spam.evaluate_verdicts(verdicts, labels))
    assert rates["ham_marked_spam"] <= NESTED_LIMITS["ham_marked_spam_max"], rates
    assert rates["spam_marked_spam"] >= NESTED_LIMITS["spam_marked_spam_min"], rates
    assert rates["spam_approved"] <= NESTED_LIMITS["spam_approved_max"], rates
    assert rates["ham_held"] <= NESTED_LIMITS["ham_held_max"], rates
