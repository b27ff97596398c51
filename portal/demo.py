"""Demo content: a demo admin and applications in several states.

Every application goes through `operations`, so the demo has the same events
and outbox emails a real one would.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from . import interviews, markup, operations
from .clock import frozen, utcnow
from .extensions import db
from .models import Mailing, Question, ReplyPreset, Submission, Subscriber, Tag, User
from .operations import Actor, Profile
from .questionnaire import install_defaults
from .workflow import Action

DEMO_EMAIL = "editor@example.com"
DEMO_PASSWORD = "portal-demo-password"  # noqa: S105 (printed by make run, demo only)

# (profile, answers in questionnaire order, where it ends, tags, days ago)
APPLICATIONS = [
    (
        Profile(
            name="Maya Okafor",
            email="maya@harbourstreet.example",
            business="Harbour Street Bakery",
            website="https://harbourstreet.example",
            location="Bristol",
            industry="Food and drink",
            pitch="A neighbourhood bakery that sells out of sourdough by eleven.",
            socials={
                "instagram": "https://www.instagram.com/harbourstreetbakes",
                "tiktok": "https://www.tiktok.com/@harbourstreetbakes",
            },
        ),
        [
            "We bake bread, buns and one daft cake a week for the streets around the harbour. Our regulars are nurses off night shifts, school parents and a surprising number of sailors.",
            "I was a hospital pharmacist who baked to calm down. When the corner shop closed in 2019 I signed the lease on a Friday and told my family on the Sunday.",
            "Instagram is our shop window and our noticeboard. If the oven breaks or we have a glut of cinnamon buns, people know within ten minutes.",
            "We stopped throwing bread away. Posting what is left at two o'clock sells most of it by four, and the rest goes to the shelter down the road.",
            "Training two apprentices who now bake better croissants than I do.",
            "Short videos of dough at five in the morning. Nothing polished: flour on the lens, the radio on. People like seeing the work before the product.",
            "Other small bakers, our flour mill, and the fishmonger next door. We share each other's posts and sometimes each other's customers.",
            "Nearly all Instagram, a little TikTok when a video takes off, and a mailing list for big news.",
            "Behind-the-scenes videos worked. Paid adverts did not: we spent three hundred pounds and sold about four extra loaves.",
            "Start the mailing list on day one. It took us three years to realise those were our most loyal people.",
            'Instagram Stories let us say "twelve buns left" and have them gone in an hour. Nothing else is that immediate.',
            "Show the work, not just the result. People root for people.",
        ],
        Action.PUBLISH,
        ["Food and drink", "Instagram"],
        40,
    ),
    (
        Profile(
            name="Tomasz Nowak",
            email="tomasz@fernwoodbikes.example",
            business="Fernwood Bike Repair",
            website="https://fernwoodbikes.example",
            location="Leeds",
            industry="Repairs and maintenance",
            pitch="A one-man bike workshop with a two-week waiting list.",
            socials={
                "youtube": "https://www.youtube.com/@fernwoodbikes",
                "mastodon": "https://cycling.example/@fernwood",
            },
        ),
        [
            "I fix bicycles: commuters' hybrids, cargo bikes, the odd vintage racer. Most of my customers ride every day and can't be without a bike for long.",
            "I was made redundant from a warehouse job and spent the payout on tools. My first workshop was a garden shed with an extension lead.",
            "YouTube brings in most new customers. Someone watches me true a wheel, realises they would rather not, and books in.",
            "I went from begging for work to turning it away. I could finally raise my prices to something fair.",
            "Building a cargo bike for a local charity that now delivers food parcels with it.",
            "Answering every comment on my videos, even the grumpy ones. A lot of viewers became customers because I once helped them for free.",
            "Other mechanics, cycling campaigners and the council's transport team, who sometimes ask me what riders actually need.",
            "One repair video a week on YouTube, a few posts on Mastodon, nothing else.",
            "Long, honest repair videos worked. Chasing trends with short clips wasted a month and brought nobody in.",
            "Film from the start. My first hundred repairs would have been great videos.",
            "YouTube lets people watch me work for twenty minutes. That builds more trust than any review.",
            "Teach what you know. The people who learn from you are the ones who will pay you.",
        ],
        Action.PUBLISH,
        ["Repairs", "YouTube"],
        25,
    ),
    (
        Profile(
            name="Priya Raman",
            email="priya@littleloom.example",
            business="Little Loom Yarns",
            website="https://littleloom.example",
            location="Edinburgh",
            industry="Retail",
            pitch="Hand-dyed yarn, sold online and at two markets a month.",
            socials={"instagram": "https://www.instagram.com/littleloomyarns"},
        ),
        [
            "I dye wool in small batches in colours named after Scottish weather. Knitters buy it online, and I sell the seconds at markets.",
            "A friend asked me to dye yarn for her wedding shawl. Her guests asked where it came from, and I had forty orders before the honeymoon.",
            "Every new colourway launches on Instagram first. The shop would be empty without it.",
            "I could leave my office job after two years.",
            "",
            "Knit-alongs: I post a pattern and everyone knits it together over a month, sharing photos.",
            "Pattern designers, other dyers, and customers who post what they made.",
            "",
            "Knit-alongs worked beautifully. Giveaways brought followers who never bought anything.",
            "",
            "",
            "Your customers' photos are better than yours. Share them and thank them.",
        ],
        Action.SEND_PROOF,
        ["Retail", "Instagram"],
        12,
    ),
    (
        Profile(
            name="Sam Reyes",
            email="sam@copperkettle.example",
            business="Copper Kettle Coffee Cart",
            location="Cardiff",
            industry="Food and drink",
            socials={"x": "https://x.com/copperkettlecart"},
        ),
        [
            "A coffee cart that moves between the station, the university and weekend markets.",
            "I bought a broken-down horsebox at an auction and spent a winter fitting it out.",
            "People need to know where the cart is today, so I post my location every morning.",
            "Regulars follow the cart across the city instead of losing it when I move.",
            "",
            "Posting the same thing every day at 7am: where I am and the soup of the day.",
            "",
            "",
            "The morning post works. Trying to be funny every day did not.",
            "",
            "",
            "Be boringly reliable. People plan around you when you do.",
        ],
        Action.SUBMIT,
        [],
        3,
    ),
    (
        Profile(
            name="Ellie Strand",
            email="ellie@northlight.example",
            business="Northlight Photography",
            website="https://northlight.example",
            location="York",
            industry="Creative services",
            socials={"linkedin": "https://www.linkedin.com/in/elliestrand"},
        ),
        [
            "Portraits and product photos for small businesses that need pictures they are not embarrassed by.",
            "I photographed my sister's shop for free, and her neighbours asked who took them.",
            "LinkedIn is where local business owners find me. Instagram is where they check my work.",
            "Most of my bookings come from people I have never met, which used to be unthinkable.",
            "",
            "Before-and-after posts: the phone photo a client was using, next to mine.",
            "",
            "",
            "Before-and-afters worked. Photography tips for other photographers brought no clients.",
            "",
            "",
            "Post for the people who pay you, not for your peers.",
        ],
        Action.START_REVIEW,
        [],
        6,
    ),
    (
        Profile(
            name="Rowan Achebe",
            email="rowan@tidepoolsurf.example",
            business="Tidepool Surf School",
            website="https://tidepoolsurf.example",
            location="Newquay",
            industry="Sport and leisure",
            pitch="Beginners' surf lessons, booked mostly by people who saw a wipeout on YouTube.",
            socials={"youtube": "https://www.youtube.com/@tidepoolsurf"},
        ),
        [
            "Surf lessons for complete beginners, from eight-year-olds to a retired judge.",
            "I taught friends for years before a café owner offered me her beach hut.",
            "YouTube: every lesson ends with a short film of the group, wipeouts included.",
            "Winter used to be dead. Now people book next summer after watching in January.",
            "",
            "Honest films. Nobody stands up first time, and we show that.",
            "",
            "Mostly YouTube, a little Instagram for the weather and the waves.",
            "Films of real lessons worked. Slick drone shots did not book anyone.",
            "I would have filmed from the first lesson, not the third year.",
            "",
            "Show what the first day is really like.",
        ],
        Action.START_REVIEW,
        [],
        3,
    ),
]


# One application that was sent back for changes and revised, so the editors'
# page has two revisions to compare.
REVISED = (
    Profile(
        name="Ines Duarte",
        email="ines@greenleafstudio.example",
        business="Greenleaf Plant Studio",
        website="https://greenleafstudio.example",
        location="Brighton",
        industry="Retail",
        socials={"instagram": "https://www.instagram.com/greenleafstudio"},
    ),
    {
        0: "We sell houseplants and run repotting workshops from a shop that used to be a bank.",
        1: "I started by selling cuttings from my own flat on a market stall.",
        2: "Instagram tells people which plants came in this week.",
        3: "More people come to the workshops.",
        5: "Posting new arrivals every Friday.",
        8: "Fridays worked. Daily posting wore me out.",
        11: "Pick a rhythm you can keep for a year.",
    },
    {
        3: "Workshops used to be half empty. Since we post a short video of the last one, "
        "the next one sells out within two days, and we added a second evening.",
        8: "Friday arrival posts worked: people plan their visit around them. Posting every "
        "day wore me out within a month and did not bring more visitors, so I stopped.",
    },
    "Thank you! Could you tell us more about what changed for the workshops, and what "
    "happened when you posted every day?",
)

PRESETS = [
    (
        "request_changes",
        "A little more detail",
        "Thank you for your application: we enjoyed reading it. Before we go further, could you "
        "add a little more detail to the answers marked below? A concrete example or a number "
        "makes an interview much more useful to readers.",
    ),
    (
        "reject",
        "Not this season",
        "Thank you so much for applying. We have more applications than we can feature this "
        "season, and we are not able to include yours. We would be glad to hear from you again "
        "next year.",
    ),
]


def seed() -> str:
    """Create the demo content once; say what was done."""
    created = install_defaults(db.session, Question)
    db.session.commit()
    if db.session.scalar(select(User).where(User.email == DEMO_EMAIL)):
        return "Demo content is already there."
    editor = User(email=DEMO_EMAIL, name="Dana Editor", role="admin", notify_new="none")
    editor.set_password(DEMO_PASSWORD)
    db.session.add(editor)
    db.session.commit()
    actor = Actor.of(editor)
    questions = list(db.session.scalars(Question.active_query()))
    for profile, texts, until, tags, days_ago in APPLICATIONS:
        answers = {q.id: text for q, text in zip(questions, texts, strict=True)}
        with frozen(utcnow() - timedelta(days=days_ago)):
            submission, _token = operations.apply(profile, answers)
        _advance(submission, until, actor, tags, days_ago)
    _revised(actor, questions)
    _second_opinions(editor)
    for action, title, body in PRESETS:
        db.session.add(ReplyPreset(action=action, title=title, body=body))
    _readers()
    db.session.commit()
    return (
        f"Installed {created} questions and {len(APPLICATIONS) + 1} demo applications. "
        f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"
    )


def _second_opinions(editor: User) -> None:
    """A colleague on the team: asked for an opinion on one application (and
    has given it), and asking the demo editor's on another."""
    colleague = User(email="theo@example.com", name="Theo Marsh", role="editor")
    colleague.set_password(secrets.token_urlsafe(24))  # a demo colleague nobody logs in as
    colleague.notify_new = "none"
    db.session.add(colleague)
    db.session.commit()
    waiting = {
        s.business: s
        for s in db.session.scalars(
            select(Submission).where(Submission.state.in_(["submitted", "in_review"]))
        )
    }
    photography = waiting.get("Northlight Photography")
    if photography is not None:
        (opinion,) = operations.ask_opinions(
            photography, editor, [colleague], "Weddings: too far from our readers?"
        )
        operations.give_opinion(
            opinion,
            colleague,
            "changes",
            "Yes to the story, but ask which post brought her first booking.",
        )
    coffee = waiting.get("Copper Kettle Coffee Cart")
    if coffee is not None:
        operations.ask_opinions(coffee, colleague, [editor], "Our third food business this year?")


def _readers() -> None:
    """Newsletter subscribers who joined over the last ten weeks (a few left,
    one address bounced, two not confirmed yet), and the demo publications'
    issues marked as sent to the ones subscribed by then."""
    now = utcnow()
    for n in range(48):
        joined = now - timedelta(days=70 - n * 1.4, hours=n % 7)
        reader = Subscriber(
            email=f"reader{n + 1}@example.com",
            cadence="weekly" if n % 4 == 0 else "each",
            status="confirmed",
            asked_at=joined - timedelta(minutes=20),
            confirmed_at=joined,
        )
        if n in (5, 17, 30):
            reader.status, reader.left_at = "unsubscribed", joined + timedelta(days=12)
        elif n == 22:
            reader.status, reader.left_at = "bounced", joined + timedelta(days=1)
            reader.bounce = "550 5.1.1 No such mailbox"
        elif n >= 46:
            reader.status, reader.confirmed_at = "pending", None
            reader.asked_at = now - timedelta(days=n - 45)
        db.session.add(reader)
    db.session.flush()
    for mailing in db.session.scalars(select(Mailing).where(Mailing.kind == "interview")):
        mailing.status, mailing.finished_at = "done", mailing.send_after
        mailing.recipients = db.session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(Subscriber.cadence == "each", Subscriber.confirmed_at <= mailing.send_after)
        )


def _revised(actor: Actor, questions: list[Question]) -> None:
    profile, first, changes, request = REVISED
    answers = {q.id: first.get(i, "") for i, q in enumerate(questions)}
    with frozen(utcnow() - timedelta(days=9)):
        submission, _token = operations.apply(profile, answers)
    with frozen(utcnow() - timedelta(days=8)):
        operations.perform(submission, Action.START_REVIEW, actor)
        operations.perform(
            submission,
            Action.REQUEST_CHANGES,
            actor,
            message=request,
            answer_requests={questions[i].id: "Please say more here." for i in changes},
        )
    revised = {**answers, **{questions[i].id: text for i, text in changes.items()}}
    with frozen(utcnow() - timedelta(days=2)):
        operations.revise(submission, profile, revised)


def _advance(submission: Submission, until: Action, actor: Actor, tags, days_ago) -> None:
    steps = [
        Action.START_REVIEW,
        Action.APPROVE,
        Action.SEND_PROOF,
        Action.SIGN_OFF,
        Action.PUBLISH,
    ]
    if until is Action.SUBMIT:
        return
    for i, action in enumerate(steps[: steps.index(until) + 1]):
        who = operations.APPLICANT if action is Action.SIGN_OFF else actor
        with frozen(utcnow() - timedelta(days=days_ago) + timedelta(days=i + 1)):
            note = ""
            if action is Action.SEND_PROOF:
                _polish(submission, tags)
                note = PROOF_NOTES.get(submission.business, "")
            operations.perform(submission, action, who, message=note)
            if action is Action.START_REVIEW:
                _ask_follow_ups(submission, actor)


# Follow-up questions asked in review: (question, the answer it follows by its
# position, a profile it is about, the answer; None: still waiting for it).
FOLLOW_UPS = {
    "Harbour Street Bakery": [
        (
            "You post what is left at two o'clock: do people now wait for that post "
            "instead of coming in the morning?",
            3,
            "instagram",
            "A few do, and that is fine: the two o'clock crowd are mostly people who could "
            "never get here before work. The morning queue has not shrunk at all.",
        ),
    ],
    "Northlight Photography": [
        (
            "Your LinkedIn brings in the company work: what do you post there that a "
            "marketing manager stops for?",
            2,
            "linkedin",
            "The before-and-afters, always with the client's permission and a line about "
            "what the new photos changed for them: more clicks, a better stall.",
        ),
    ],
    "Tidepool Surf School": [
        (
            "Your films show the wipeouts: has anyone ever asked you to take one down?",
            2,
            "youtube",
            None,
        ),
        ("What does a winter booking look like, from the film to the beach?", 3, "", None),
    ],
}


def _ask_follow_ups(submission: Submission, actor: Actor) -> None:
    asked = FOLLOW_UPS.get(submission.business)
    if not asked:
        return
    answers = submission.latest_revision.answers
    operations.ask_follow_ups(
        submission,
        actor,
        [
            operations.Ask(question, answers[at].key if at >= 0 else "", cites)
            for question, at, cites, _ in asked
        ],
    )
    if any(answer is None for *_, answer in asked):
        return  # waiting for the applicant
    replies = {
        question.id: operations.Reply(answer)
        for question, (*_, answer) in zip(submission.follow_ups, asked, strict=True)
    }
    operations.answer_follow_ups(submission, replies)


# What the editor changed in some answers before the proof (by answer position),
# and what they wrote with the proof: the interviewee sees both on the proof.
EDITS = {
    "Little Loom Yarns": {
        0: "I dye wool in small batches, in colours named after *Scottish weather*. "
        "Knitters buy it online, and the seconds go to two markets a month.",
        2: "Every new colourway launches on Instagram first: the shop would be empty without it.",
    },
}
PROOF_NOTES = {
    "Little Loom Yarns": "We tightened two answers a little; the rest is as you wrote "
    "it. Tell us if anything no longer sounds like you.",
}


def _polish(submission: Submission, tag_names: list[str]) -> None:
    """What an editor would do to the draft before sending the proof."""
    interview = submission.interview
    interview.title = f"{submission.business}: {submission.pitch or submission.industry}"[:200]
    interview.intro_md = (
        f"We spoke to **{submission.name}** about running "
        f"{submission.business} in {submission.location} and what social media "
        "changed for them."
    )
    interview.intro_html = markup.render(interview.intro_md)
    interview.greeting = f"Hello {submission.name.split()[0]}; welcome to the series!"
    for position, text in EDITS.get(submission.business, {}).items():
        item = interview.items[position]
        item.answer_md, item.answer_html = text, markup.render(text)
    for name in tag_names:
        slug = interviews.slugify(name)
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug)) or Tag(name=name, slug=slug)
        interview.tags.append(tag)
    db.session.commit()
