"""Write the bundled demo data: ``mentions.jsonl`` and ``customers.csv`` next to this file.

Lumen Mobile is a fictional mobile carrier. Every post, review, article and customer here is
composed by this script from its own templates; nothing is taken from real posts or data sets.
The output is deterministic: running the script again writes byte-identical files.

Run from the repository root::

    python -m core.demo.generate
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20261127
UNDECLARED_HANDLES = frozenset({"Tasha Monroe", "Omar Reid", "Caleb Keller"})
END = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
SPAN = timedelta(days=14)
START = END - SPAN
OUT_DIR = Path(__file__).parent
MENTIONS_FILE = OUT_DIR / "mentions.jsonl"
CUSTOMERS_FILE = OUT_DIR / "customers.csv"

BRAND_ID = "900000000000000001"
BRAND_HANDLE = "LumenMobile"
BRAND_NAME = "Lumen Mobile"
BRAND_FOLLOWERS = 84210
SUBREDDIT = "LumenMobile"
APP_URL = "https://apps.apple.com/us/app/lumen-mobile-my-account/id1234567890"
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

# Lines per platform: about 55% twitter, 20% reddit, 15% appstore, 10% rss.
TARGETS = {"twitter": 222, "reddit": 80, "appstore": 60, "rss": 40}

# What a line says; internal only (never written), used for the mix and the report.
COMPLAINT = "complaint"
PRAISE = "praise"
QUESTION = "question"
NEUTRAL = "neutral"
BRAND = "brand"

# --------------------------------------------------------------------------------------------
# Slot values
# --------------------------------------------------------------------------------------------

PLANS = (
    "Lumen Unlimited",
    "Lumen Unlimited Max",
    "Lumen Flex 5G",
    "Lumen Prepaid 25",
    "Lumen Family 4",
    "Lumen Basic",
)
DEVICES = ("Aurora X2", "Nova 12", "Nova 12 Pro", "Kite Mini", "Orbit S", "Aurora X2 Fold")
CITIES = (
    "Austin",
    "Denver",
    "Chicago",
    "Portland",
    "Atlanta",
    "Phoenix",
    "Seattle",
    "Boston",
    "Miami",
    "Sacramento",
    "Minneapolis",
    "Pittsburgh",
    "Tampa",
    "Columbus",
    "Raleigh",
    "Salt Lake City",
    "Kansas City",
    "Nashville",
    "San Diego",
    "Tucson",
)
COUNTRIES = ("Mexico", "Canada", "Spain", "Italy", "Japan", "Portugal", "the UK", "Costa Rica")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DOLLARS = (34, 42, 48, 55, 58, 64, 72, 80, 95, 118, 126)
CENTS = ("00", "99", "50", "18", "47", "25")
AGENTS = ("JM", "AL", "RK", "SK", "TR", "MG", "DP", "CW", "EN", "LB")

FIRST_NAMES = (
    "Alex", "Jordan", "Sam", "Taylor", "Chris", "Morgan", "Jamie", "Riley", "Casey", "Avery",
    "Maria", "Luis", "Emily", "Noah", "Olivia", "Ethan", "Sofia", "Marcus", "Aisha", "Ben",
    "Chloe", "Hannah", "Isaac", "Jade", "Kyle", "Lena", "Mason", "Nina", "Owen", "Paige",
    "Rosa", "Sean", "Tara", "Victor", "Wendy", "Yusuf", "Zoe", "Derek", "Fatima", "Grace",
    "Hector", "Ivy", "Jonah", "Kara", "Leo", "Mei", "Nate", "Omar", "Brianna", "Caleb",
)  # fmt: skip
LAST_NAMES = (
    "Anderson", "Baker", "Carter", "Diaz", "Ellis", "Foster", "Garcia", "Hughes", "Ibarra",
    "Jensen", "Kim", "Lopez", "Murphy", "Nguyen", "Ortiz", "Patel", "Rivera", "Shaw", "Turner",
    "Vance", "Walsh", "Xu", "Young", "Zimmerman", "Brooks", "Cole", "Dunn", "Fisher", "Grant",
    "Hayes", "Keller", "Lam", "Moreno", "Novak", "Okoro", "Price", "Reid", "Santos", "Tran",
    "Wong", "Yates", "Becker", "Castillo", "Delgado", "Holt", "Lindqvist", "Mbeki", "Sato",
)  # fmt: skip
ADJECTIVES = (
    "quiet", "grumpy", "sleepy", "rusty", "lucky", "salty", "cosmic", "frugal", "wandering",
    "midnight", "caffeinated", "tired", "humble", "curious", "stubborn", "sunny", "nervous",
)  # fmt: skip
NOUNS = (
    "otter", "kestrel", "badger", "toaster", "pixel", "walrus", "cactus", "falcon", "pancake",
    "lantern", "moose", "nomad", "comet", "ferret", "heron", "biscuit", "yeti", "marmot",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Text templates. {brand} is "@LumenMobile", "Lumen" or "Lumen Mobile" depending on where the
# text appears; the other slots come from DemoBuilder.slots().
# --------------------------------------------------------------------------------------------

TOPICS = ("billing", "network", "delivery", "app", "service", "roaming", "porting")

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "billing": (
        "{brand} charged me twice for {plan} this month. {amount} taken out two times and "
        "nobody can explain why. Unacceptable.",
        "Just opened my bill from {brand} and it's {amount} more than my plan price. Terrible "
        "and sneaky.",
        "Still waiting on the refund {brand} owes me from {ndays} days ago. Ridiculous and unfair.",
        "{brand} double billed me AGAIN. Worst billing system I have ever dealt with.",
        "Cancelled my extra line weeks ago and {brand} is still charging me {amount} for it. "
        "So frustrating.",
        "My autopay with {brand} failed and then they hit me with a late fee. Awful.",
        "{brand} added a surprise {amount} service fee nobody mentioned when I signed up for "
        "{plan}. Misleading and unfair.",
    ),
    "network": (
        "{brand} still no signal in {city}. {ndays} days now. I pay for {plan} and get "
        "nothing. Terrible.",
        "Is {brand} down again? No data in {city} since this morning. Can't work, can't call, "
        "so angry.",
        "Dropped calls all day in downtown {city}. {brand} coverage has gotten so bad lately.",
        "{brand} your 5G in {city} is a joke. One bar and pages won't load. Horrible.",
        "Third outage this month in {city}. {brand} this is unacceptable.",
        "Paying {brand} for {plan} and my data crawls at 0.3 Mbps in {city}. Worst network "
        "I've had.",
        "No service at home in {city} since {weekday}. {brand} keeps blaming maintenance. "
        "Fed up and angry.",
    ),
    "delivery": (
        "Ordered the new {device} from {brand} {ndays} days ago. Terrible experience so "
        "far, the tracking still shows nothing.",
        "{brand} sent my new SIM to the wrong address. Now I'm stuck with no phone. Awful.",
        "My {device} arrived with a cracked screen and {brand} wants me to wait {ndays} days "
        "for a replacement. Unacceptable.",
        "Still no SIM card from {brand}. Promised two-day delivery, it's been {ndays} days. "
        "Really disappointed.",
        "Package marked delivered by {brand} but nothing here. Terrible, and I'm really upset.",
    ),
    "app": (
        "The {brand} app crashes every time I open the billing page. Useless.",
        "Can't log in to the {brand} app, stuck in a login loop since the update. So annoying.",
        "{brand} app keeps saying something went wrong when I try to pay. Terrible app.",
        "Updated the {brand} app and now it won't even open on my {device}. Broken and "
        "frustrating.",
        "The {brand} app logged me out and the password reset email never arrives. So "
        "frustrating and annoying.",
        "{brand} why does your app show the wrong data usage? It says I'm over my limit on "
        "{plan}. Worrying and annoying.",
    ),
    "service": (
        "On hold with {brand} for {minutes} minutes now. Still nobody. Worst customer service "
        "ever.",
        "{brand} support chat disconnected me for the third time today. Incredibly frustrating.",
        "Spent {hours} hours on the phone with {brand} and got transferred five times. "
        "Terrible, wasted afternoon and nothing fixed.",
        "{brand} agent hung up on me mid-sentence. Rude and unacceptable.",
        "{brand} has promised me a callback {ndays} times. Still waiting. Awful, useless service.",
    ),
    "roaming": (
        "Just back from {country} and {brand} charged me {amount} in roaming even though "
        "{plan} says roaming is included. Outrageous.",
        "{brand} roaming didn't work at all in {country}. No data for my whole trip. Terrible.",
        "Got a text from {brand} about {amount} roaming charges for ONE day in {country}. "
        "This feels like a scam.",
        "Day pass in {country} activated and still no data. {brand} you ruined my trip. Angry.",
    ),
    "porting": (
        "Trying to port my number to {brand} for {ndays} days. Terrible. Still stuck with "
        "no phone and no answers.",
        "{brand} lost my number during the port. Worst switch I've ever made.",
        "eSIM activation with {brand} failed three times. Now my old carrier cut me off and I "
        "have no service. Furious.",
        "{brand} locked me out of my account after a password reset. Can't access anything. "
        "Ridiculous and awful.",
        "Someone swapped the SIM on my {brand} account without my permission. Scary and "
        "unacceptable.",
    ),
}

COMPLAINT_PREFIXES = ("Ugh. ", "Unbelievable. ", "Seriously, ", "Great. Just great. ")
COMPLAINT_SUFFIXES = (
    " Seriously considering switching carriers.",
    " Do better.",
    " Not impressed.",
    " So disappointed.",
    " Anyone else?",
    " #fail",
    " 😡",
    " 🤬",
)

PRAISE_TEXTS: tuple[str, ...] = (
    "Shoutout to {brand} support, fixed my billing issue in 10 minutes. Great service!",
    "Switched to {brand} last month and the 5G in {city} is honestly amazing.",
    "{brand} eSIM setup took two minutes on my new {device}. Love it.",
    "Roaming in {country} with {plan} just worked. No surprise charges. Thank you {brand}!",
    "The new {brand} app update is so much faster. Nice work!",
    "Got my {device} a day early from {brand}. Excellent delivery.",
    "Best carrier decision I've made. {brand} saves me {amount} a month vs my old plan.",
    "Had a great chat with {brand} support today, super friendly and helpful.",
    "{brand} refunded a double charge quickly and politely. Impressed, thank you!",
    "Full bars in the middle of nowhere outside {city}. {brand} coverage is excellent.",
    "Ported my number to {brand} in under an hour. Smooth and easy.",
    "Love that {brand} lets me pause a line from the app. So convenient.",
    "Huge thanks to the {brand} store in {city}, they sorted my SIM swap in minutes.",
    "{plan} has been rock solid for me for {months} months. Happy {brand} customer.",
    "Data speeds with {brand} in {city} are fantastic today. {speed} Mbps down!",
    "Really impressed with {brand} wifi calling, crystal clear even in my basement.",
    "{brand} customer care actually called me back when they said they would. Great job.",
    "Three years with {brand} and never a billing problem. Love it.",
    "{brand} fixed my eSIM issue over chat in five minutes. Brilliant support.",
    "Streaming on the train through {city} with zero buffering. {brand} 5G is great.",
    "Props to {brand} for the outage credit without me even asking. Appreciated!",
    "The {brand} store team in {city} were so helpful setting up my {device}. Thank you!",
    "{brand} hotspot saved my work day when the home internet died. Excellent.",
    "Moved the whole family to {plan} and we save {amount} a month. Very happy with {brand}.",
    "Got a real human at {brand} support in under two minutes. Impressive.",
    "Coverage on my hike outside {city} was perfect. Nice job {brand}.",
)
PRAISE_SUFFIXES = (" 🙌", " ❤️", " 10/10", " #happycustomer", " Recommend.", " Thanks!")

# (question, the brand's answer)
QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "how do I set up eSIM on my new {device}?",
        "Hi {first}! Open the Lumen app and tap Account > SIM & eSIM > Add eSIM, then follow "
        "the steps. It takes about two minutes.",
    ),
    (
        "does {plan} include roaming in {country}?",
        "Hi {first}, {plan} includes texts abroad. For data in {country}, add a Travel Day "
        "Pass in the app before you go.",
    ),
    (
        "can I add a second line from the app?",
        "You can! Go to Account > Lines > Add a line. If anything gets stuck, just DM us.",
    ),
    (
        "what time does your {city} store open on {weekday}?",
        "Hi {first}, most stores open at 10am. You can check the {city} store hours in the "
        "app under Store locator.",
    ),
    (
        "is there a student discount on {plan}?",
        "Hi {first}! Students get 15% off with a valid school email. DM us and we'll check "
        "your eligibility.",
    ),
    (
        "how do I turn on wifi calling?",
        "On most phones it's Settings > Phone > Wi-Fi Calling, then confirm your address in "
        "the Lumen app.",
    ),
    (
        "how can I download my last bill as a PDF?",
        "In the app go to Billing > Statements and tap the download icon next to the month "
        "you need.",
    ),
    (
        "is there an outage in {city} right now?",
        "Hi {first}, we're checking {city} now. Could you DM us your ZIP code so we can look "
        "at your area?",
    ),
    (
        "can I keep my number if I switch from prepaid to {plan}?",
        "Yes, your number stays the same when you move from prepaid to {plan}.",
    ),
    (
        "how long does a refund usually take to show up?",
        "Refunds usually appear within 3 to 5 business days, depending on your bank.",
    ),
    (
        "how do I unlock my {device} for travel?",
        "Devices that have been paid off for 60 days can be unlocked in the app under "
        "Account > Device > Unlock.",
    ),
    (
        "do you have a family discount if we add 3 lines?",
        "We do! Lumen Family 4 covers up to four lines at a lower price per line. DM us for a "
        "quote.",
    ),
    (
        "where do I find my PUK code?",
        "Your PUK is in the app under Account > SIM & eSIM > Security codes.",
    ),
    (
        "can I change my billing date?",
        "You can change it once every 6 months in Billing > Payment settings.",
    ),
    (
        "is the {device} compatible with your 5G network?",
        "Yes, the {device} works on our 5G network. Just make sure 5G is switched on in settings.",
    ),
    (
        "how do I move my eSIM to a new phone?",
        "In the app on your new phone, tap SIM & eSIM > Transfer eSIM and follow the prompts.",
    ),
    (
        "what's the hotspot allowance on {plan}?",
        "Hi {first}, you can see the hotspot allowance for {plan} in the app under Plan & Add-ons.",
    ),
    (
        "any Black Friday deals on the {device}?",
        "Our Black Friday offers go live at midnight! Keep an eye on the app and our site.",
    ),
    (
        "can I pause my line while I travel next month?",
        "Yes, you can suspend a line for up to 3 months under Account > Lines.",
    ),
    (
        "how do I set up autopay?",
        "Billing > Payment settings > Autopay. You'll also get $5 off each month.",
    ),
    (
        "how do I check how much data I've used this month?",
        "Open the app and tap Usage on the home screen. It updates every 15 minutes.",
    ),
    (
        "can I get a paper bill instead of email?",
        "Sure, {first}! Billing > Statement preferences > Paper bill.",
    ),
    (
        "do you cover calls to {country} on {plan}?",
        "Hi {first}, calls to {country} come with the International Add-on, which you can add "
        "in the app.",
    ),
    (
        "what's the fastest way to reach a real person?",
        "Message us here or use the in-app chat. Our team replies around the clock.",
    ),
    (
        "is the Black Friday price on the {device} also for existing customers?",
        "Yes! Upgrade offers for existing customers go live tomorrow in the app.",
    ),
    (
        "how do I report a lost phone?",
        "Sorry to hear that, {first}. Go to Account > Device > Report lost in the app, or call "
        "611 from another phone.",
    ),
)
QUESTION_PREFIXES = (
    "@LumenMobile ",
    "@LumenMobile ",
    "@LumenMobile hi, ",
    "@LumenMobile quick q: ",
)
QUESTION_SUFFIXES = ("", "", "", " Thanks!", " Thanks in advance.", " 🙏")

NEUTRAL_TWEETS: tuple[str, ...] = (
    "Thinking about switching to {brand}. Anyone in {city} using them?",
    "{brand} ad came on during the game again.",
    "Porting to {brand} this weekend, will report back.",
    "Anyone know if {brand} is doing Black Friday deals on the {device}?",
    "New {brand} store opening near me in {city}.",
    "{brand} sent me a survey about my last support call.",
    "Comparing {plan} with my current plan, looks about the same price.",
    "Read that {brand} is expanding 5G in {city} next year.",
    "My dad just switched to {brand}, guess the whole family is next.",
    "{brand} Black Friday deals drop tomorrow apparently.",
    "Anyone else get the {brand} email about the new terms of service?",
    "Day {ndays} on {plan}. No complaints, no surprises so far.",
    "Picking up my new {device} from {brand} after work.",
    "Does anyone actually read the {brand} newsletter?",
)

# Twitter thread pieces -----------------------------------------------------------------------

BRAND_SORRY_GENERIC = (
    "Sorry to hear that, {first}. Please DM us your account number and we'll look into it "
    "right away. ^{agent}",
    "We're sorry about this, {first}. Could you send us a DM with your account details so we "
    "can check what happened? ^{agent}",
    "That's not the experience we want for you. Please DM us and we'll get this sorted. ^{agent}",
)
BRAND_SORRY: dict[str, tuple[str, ...]] = {
    "billing": (
        "Sorry about the billing trouble, {first}. DM us the charge date and amount and we'll "
        "review it for a refund. ^{agent}",
    ),
    "network": (
        "Sorry for the connection issues in {city}, {first}. Please DM us your ZIP code so we "
        "can check the network in your area. ^{agent}",
    ),
    "delivery": (
        "Sorry your order is delayed, {first}. Please DM us your order number and we'll chase "
        "it with the courier. ^{agent}",
    ),
    "app": (
        "Sorry about the app trouble, {first}. Could you DM us your phone model and app "
        "version? Our team is looking into it. ^{agent}",
    ),
    "service": (
        "We're sorry about the long wait, {first}, that's not okay. DM us and we'll pick this "
        "up right here. ^{agent}",
    ),
    "roaming": (
        "Sorry about the roaming charges, {first}. Please DM us the dates of your trip and "
        "we'll review them. ^{agent}",
    ),
    "porting": (
        "Sorry about the port delay, {first}. DM us your account number and the number you're "
        "moving and we'll escalate it. ^{agent}",
    ),
}
BRAND_ESCALATE = (
    "We've escalated this to our specialist team and they'll contact you within 24 hours. "
    "Thanks for your patience, {first}. ^{agent}",
    "Really sorry for the runaround, {first}. A supervisor has your case now and will reply "
    "to your DM today. ^{agent}",
)
BRAND_GLAD = (
    "Glad we could help, {first}! Enjoy the rest of your week. ^{agent}",
    "Great to hear it's sorted! Thanks for bearing with us. ^{agent}",
    "Happy to help, {first}. Give us a shout any time. 💙 ^{agent}",
)
BRAND_THANKS = (
    "Thanks so much, {first}! We'll pass this on to the team. ^{agent}",
    "Love to hear it, {first}! Thanks for being with us. 💙 ^{agent}",
    "This made our day. Thanks for the kind words! ^{agent}",
)
STILL: dict[str, tuple[str, ...]] = {
    "billing": ("Still no refund.", "Still charged twice."),
    "network": ("Still no signal.", "Still no data."),
    "delivery": ("Still no package.", "Still no SIM."),
    "app": ("App still crashes.", "Still can't log in."),
    "service": ("Still waiting.", "Still no callback."),
    "roaming": ("Still being charged.", "Still no refund for the roaming."),
    "porting": ("Still no number.", "Still no service."),
}
ANGRY_FOLLOWUPS = (
    "I sent a DM hours ago and nobody replied. This is ridiculous. {still}",
    "Another please DM us. I've done that twice. {still} Terrible.",
    "DMed you, got a copy-paste answer. Worst support ever. {still}",
    "Your team told me 24 hours last week. Unacceptable. {still}",
    "Nobody has answered my DM. {still} I'm so angry at this point.",
)
RESOLVED: dict[str, tuple[str, ...]] = {
    "billing": ("Thanks, the refund of {amount} just showed up. Sorted now!",),
    "network": ("Signal's back in {city}. Thanks for the quick help!",),
    "delivery": ("Courier just dropped it off. Thanks for chasing it!",),
    "app": ("Reinstalled like your team said and it works now. Thanks!",),
    "service": ("Thanks, your DM team fixed it in 10 minutes. Really appreciated.",),
    "roaming": ("Charges reversed. Thank you, really appreciate it!",),
    "porting": ("Number finally ported and everything works. Thanks for escalating!",),
}
RESOLVED_GENERIC = (
    "Thanks, sorted now! 🙏",
    "All fixed, thank you. Great support in the end.",
    "That worked, thanks so much!",
)
QUESTION_THANKS = (
    "perfect, that worked. Thanks!",
    "great, thank you so much!",
    "got it, thanks for the quick answer 👍",
    "awesome, appreciate it!",
)
CHIME_INS = (
    "Same here, nothing works in {city} either. Ridiculous.",
    "Glad it's not just me. Same problem since {weekday}, so annoying.",
    "Same issue here. Terrible week to be a Lumen customer.",
    "Exactly the same for me. Awful.",
)

# Reddit ---------------------------------------------------------------------------------------

# General enough to fit any complaint body of the topic.
REDDIT_COMPLAINT_TITLES: dict[str, tuple[str, ...]] = {
    "billing": ("Billing problems again", "Billing nightmare", "Is anyone else's bill wrong?"),
    "network": ("Network problems in {city}", "Coverage in {city} lately", "Signal issues"),
    "delivery": ("Delivery nightmare", "Order problems", "Anyone else having shipping issues?"),
    "app": ("App problems", "The app is a mess", "App issues since the update"),
    "service": ("Customer service rant", "Support is getting worse", "Is support helping anyone?"),
    "roaming": ("Roaming problems in {country}", "Roaming warning for {country}"),
    "porting": ("Switching to Lumen went badly", "Account nightmare", "Porting and account issues"),
}
REDDIT_COMPLAINT_TAILS = (
    "Anyone else dealing with this?",
    "Not sure what else to do at this point.",
    "Posting here because support has been useless.",
    "Really regretting the switch.",
    "",
)
REDDIT_QUESTION_BODIES = (
    "Couldn't find a clear answer on the website. Anyone know?",
    "Support chat gave me two different answers, so asking here.",
    "Title says it all. Thanks in advance!",
    "Asking before I call support and wait on hold.",
    "New to Lumen, sorry if this is obvious.",
)
REDDIT_PRAISE_TITLES = (
    "Pleasantly surprised",
    "Credit where it's due",
    "Something positive for once",
    "No regrets so far",
    "Small win today",
)
REDDIT_NEUTRAL: tuple[tuple[str, str], ...] = (
    ("Thinking about switching", "Mostly use data around {city}. How's coverage been for you?"),
    ("Black Friday deals thread", "Post any Lumen deals you spot this week. {device} anyone?"),
    ("New store in {city}", "Walked past the new Lumen store in {city}. Opens next week."),
    ("Terms of service email", "Did anyone read the new terms email? Looks like small changes."),
    ("Speed test in {city}", "About {speed} Mbps downtown and 90 at home. Seems normal?"),
    ("3G shutdown next year", "Saw the 3G announcement. Guess my old backup phone is done."),
    ("Which plan are you all on?", "Curious how many people here are on {plan}."),
    ("{device} owners", "Anyone here using the {device}? Thinking of getting one."),
)


@dataclass(frozen=True)
class RedditComment:
    """One comment in a scripted Reddit thread; ``op`` comments come from the submitter."""

    text: str
    category: str
    op: bool = False


@dataclass(frozen=True)
class RedditThread:
    """A scripted Reddit submission and the pool its comments are drawn from."""

    title: str
    body: str
    category: str
    comments: tuple[RedditComment, ...]


C = RedditComment
REDDIT_THREADS: tuple[RedditThread, ...] = (
    RedditThread(
        "No data in {city} since this morning?",
        "No data since around 7am in {city} and calls keep dropping. Restarted twice and reset "
        "network settings. The status page says everything is fine, which is honestly "
        "infuriating. Anyone else?",
        COMPLAINT,
        (
            C("Same here on the east side of {city}. Zero bars. Terrible timing, I work from "
              "home.", COMPLAINT),
            C("Mine came back about 20 minutes ago. Try toggling airplane mode.", NEUTRAL),
            C("Third outage this month for me. I'm so done with this network.", COMPLAINT),
            C("Support told me it's a damaged fiber line, no ETA. Useless answer.", COMPLAINT),
            C("Working fine downtown, weirdly.", NEUTRAL),
            C("Ask for an outage credit when it's back. They gave me $10 without arguing.",
              NEUTRAL),
            C("Back up now. Thanks for the airplane mode tip!", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "Charged twice for {plan} this month",
        "Two charges of {amount} on the same day. Support chat said it would self-correct. It "
        "hasn't. Anyone had luck getting a double charge refunded quickly? Really frustrated.",
        COMPLAINT,
        (
            C("Happened to me in October. Took three calls, but I got the money back.", NEUTRAL),
            C("Ask for the billing team directly. First-line chat can't issue refunds.", NEUTRAL),
            C("Same thing here, charged twice and still waiting after a week. Awful.", COMPLAINT),
            C("If they drag it out, dispute it with your bank.", NEUTRAL),
            C("This is exactly why I turned off autopay. Their billing is a mess.", COMPLAINT),
            C("Update: the billing team refunded it in 10 minutes once I got through. Thanks "
              "all.", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "Port-in stuck for {ndays} days, no service",
        "Switched to Lumen on {weekday}. My old carrier already cut me off and Lumen says the "
        "port is in progress. This is a nightmare and I'm furious. No calls, no texts, no 2FA "
        "codes.",
        COMPLAINT,
        (
            C("Mine took 36 hours but it did finish eventually.", NEUTRAL),
            C("Call the port team, not general support. They can push it manually.", NEUTRAL),
            C("Same situation, day 3 here. Horrible experience so far.", COMPLAINT),
            C("Check that the account PIN from your old carrier is right, that's what held "
              "mine up.", NEUTRAL),
            C("Porting has been broken for weeks. Terrible.", COMPLAINT),
            C("Checked the PIN, updated it, and the number moved in an hour. Thank you so "
              "much!", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "Is Lumen Unlimited Max worth it over Lumen Flex 5G?",
        "I use about 30 GB a month and hotspot sometimes. Is the upgrade worth the extra $20 "
        "a month?",
        QUESTION,
        (
            C("Flex 5G has been great for me. Honestly the best value plan they have.", PRAISE),
            C("If you hotspot a lot, Max is worth it. Otherwise no.", NEUTRAL),
            C("Max gets priority data, which helps at concerts and games.", NEUTRAL),
            C("I downgraded to Flex and didn't notice any difference.", NEUTRAL),
            C("Whatever you pick, watch out for the activation fee. Nobody mentions it and it's "
              "annoying.", COMPLAINT),
            C("Thanks, sounds like Flex is fine for me then.", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "eSIM transfer to a new {device}: smooth for anyone?",
        "Picking up a new {device} this weekend. How did the eSIM transfer go for you? Don't "
        "want to be without service.",
        QUESTION,
        (
            C("Took me two minutes through the app. Super easy.", PRAISE),
            C("Mine failed and I had to go to a store. Annoying, but they fixed it quickly.",
              NEUTRAL),
            C("Do it on Wi-Fi, and keep the old phone on until the new one shows bars.", NEUTRAL),
            C("Worked perfectly on my {device}. Great experience.", PRAISE),
            C("Failed three times for me, then support had to reset it. Frustrating.",
              COMPLAINT),
            C("Went smoothly, thanks everyone!", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "PSA: check roaming before your {country} trip",
        "Got hit with {amount} in roaming charges after three days in {country}, even though "
        "I thought my plan covered it. The day pass has to be added manually. Annoying lesson.",
        COMPLAINT,
        (
            C("Same thing happened to me in {country}. Terrible that it isn't on by default.",
              COMPLAINT),
            C("Call them, they reversed mine as a one-time courtesy.", NEUTRAL),
            C("Thanks for the PSA, adding it before my trip now.", PRAISE),
            C("The roaming rules on their website are so confusing. Awful.", COMPLAINT),
            C("Travel pass worked great for me in Canada.", PRAISE),
        ),
    ),
    RedditThread(
        "App update broke login for anyone else?",
        "Since the latest update I'm stuck in a login loop on my Nova 12 Pro. Enter password, "
        "spinner, back to login. Reinstalling didn't help. Really frustrating.",
        COMPLAINT,
        (
            C("Yes! Login loop on my {device} too. So annoying.", COMPLAINT),
            C("Clearing the app cache fixed it for me.", NEUTRAL),
            C("Uninstall and reinstall worked, but I had to set up Face ID again.", NEUTRAL),
            C("Their X account says a hotfix is rolling out today.", NEUTRAL),
            C("Can't pay my bill because of this. Ridiculous.", COMPLAINT),
            C("The hotfix did it, back in now. Thanks all!", PRAISE, op=True),
        ),
    ),
    RedditThread(
        "Shoutout to the {city} store staff",
        "Needed a new SIM on {weekday}, walked into the {city} store and they had it "
        "working in ten minutes. Friendly, fast and honest. Great experience.",
        PRAISE,
        (
            C("Love that store. They helped me with a port-in last year.", PRAISE),
            C("Nice to see a positive post here for once!", PRAISE),
            C("Which location? I need to get a SIM replaced.", QUESTION),
            C("Good to hear. My local store is the opposite, so it really depends.", NEUTRAL),
            C("The one on Main Street. Ask for Rosa, she's great.", PRAISE, op=True),
        ),
    ),
)  # fmt: skip
APP_THREAD = 6  # index of the login-loop thread: Kevin Liu starts it

# App Store ------------------------------------------------------------------------------------

# (titles, body, category); complaints get 1-2 stars, praise 4-5, the rest 3.
APPSTORE_REVIEWS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("Crashes constantly", "Useless since update"),
     "App crashes every time I open it on my {device}. Reinstalled twice. Useless and "
     "annoying.", COMPLAINT),
    (("Login loop", "Can't log in"),
     "Stuck in a login loop since the last update. Can't see my bill or my data usage. "
     "Terrible.", COMPLAINT),
    (("Can't pay my bill", "Payment broken"),
     "Tried to pay my bill three times, got an error every time and then a late fee. Awful.",
     COMPLAINT),
    (("Slow and buggy",),
     "The app is so slow it's faster to call support, and that takes {minutes} minutes. "
     "Frustrating.", COMPLAINT),
    (("Keeps logging me out",),
     "Face ID login stopped working and password reset emails never arrive. Terrible and "
     "annoying.",
     COMPLAINT),
    (("Wrong data usage",),
     "Usage screen says I used 40 GB when I've barely touched my phone. Worrying and wrong.",
     COMPLAINT),
    (("eSIM setup fails", "Worst carrier app"),
     "Can't switch to eSIM in the app, it just spins forever. Worst carrier app I've used.",
     COMPLAINT),
    (("Every update breaks something",),
     "Every update ruins something new. Now the chat button does nothing. Disappointing and "
     "buggy.",
     COMPLAINT),
    (("Spam notifications",),
     "Notifications spam me with promos but not my actual bill due date. Annoying and useless.",
     COMPLAINT),
    (("Chat is useless",),
     "In-app chat left me waiting {minutes} minutes and then closed my case. Horrible, useless "
     "support.",
     COMPLAINT),
    (("Finally a carrier app that works", "Love it"),
     "Paying my bill takes ten seconds now. Clean design and zero ads. Love it.", PRAISE),
    (("Super easy eSIM setup",),
     "Set up eSIM on my new {device} right in the app. Easy and fast.", PRAISE),
    (("Great usage tracker",),
     "The usage tracker is great, I finally know where my data goes.", PRAISE),
    (("Fast support",),
     "Chat support inside the app answered in 2 minutes and fixed my issue. Excellent.",
     PRAISE),
    (("Great update", "Much better now"),
     "Much better since the redesign. Smooth, quick and reliable.", PRAISE),
    (("Does everything I need",),
     "Adding a line for my kid took five minutes. Really happy with it.", PRAISE),
    (("Perfect for travel",),
     "Bought a roaming day pass in one tap before my trip to {country}. Perfect.", PRAISE),
    (("Best carrier app",),
     "Best carrier app I've used. Simple, fast and it just works on my {device}.", PRAISE),
    (("Decent",), "Does the basics fine. Loads a bit slowly on my {device}.", NEUTRAL),
    (("Almost there",), "Works most of the time, though it logs me out every few days.",
     NEUTRAL),
    (("It's okay",), "Billing works. The plan comparison page is confusing though.", NEUTRAL),
    (("Needs dark mode",), "Solid app but please add dark mode.", QUESTION),
    (("Widget please",), "Would love a home screen widget for data usage.", QUESTION),
    (("Billing date option?",),
     "Useful app, but could you let us change the billing date in here?", QUESTION),
    (("Add Apple Watch support",), "Good app. Please add a watch app for quick balance checks.",
     QUESTION),
    (("Bill pay keeps failing",),
     "Payment page freezes on the last step. Had to call in to pay, which took forever. Awful.",
     COMPLAINT),
    (("Can't find anything",),
     "Terrible navigation. Took me ten minutes to find my plan details. Confusing and "
     "frustrating.", COMPLAINT),
    (("Logged out constantly",), "Logs me out every single day on my {device}. So annoying.",
     COMPLAINT),
    (("Roaming pass didn't work",),
     "Bought a day pass for {country} in the app and it never activated. Wasted money. Angry.",
     COMPLAINT),
    (("Easy plan changes",), "Switched to {plan} in two taps. Great app, no phone call needed.",
     PRAISE),
    (("Love the new design",),
     "The new design is clean and fast. Checking my usage is actually pleasant now.", PRAISE),
    (("Helpful",),
     "Reported a lost phone from the app and had a new eSIM in minutes. Excellent.", PRAISE),
    (("Fine",), "It's fine. Does what it says, nothing special.", NEUTRAL),
    (("Split bills please",),
     "Would be great if family plans could split the bill between members.", QUESTION),
)  # fmt: skip
APPSTORE_TAILS: dict[str, tuple[str, ...]] = {
    COMPLAINT: (
        "",
        " Fix it.",
        " One star until this is fixed.",
        " Seriously considering switching carriers.",
        " Very disappointed.",
        " So disappointing.",
    ),
    PRAISE: ("", " Thanks Lumen!", " Keep it up.", " Great job."),
    NEUTRAL: ("", " Three stars for now."),
    QUESTION: ("", " Thanks!"),
}

# RSS ------------------------------------------------------------------------------------------

RssItem = tuple[str, str, str, str]  # (feed key, title, summary, category)
RSS_ITEMS: tuple[RssItem, ...] = (
    ("newsroom", "Lumen Mobile expands 5G coverage to {n} more cities",
     "Customers in {city} and nearby areas will see faster speeds by early next year.", NEUTRAL),
    ("newsroom", "Black Friday at Lumen Mobile: deals on the {device}",
     "Discounts on devices for new lines on {plan} run through the weekend.", NEUTRAL),
    ("newsroom", "Lumen Mobile opens a flagship store in {city}",
     "The new store offers same-day SIM replacement and device repairs.", NEUTRAL),
    ("newsroom", "Lumen Mobile adds eSIM support for prepaid customers",
     "Prepaid customers can now switch to eSIM in the Lumen Mobile app.", NEUTRAL),
    ("newsroom", "Introducing the Travel Day Pass for {country}",
     "<p>The new <b>Travel Day Pass</b> covers data &amp; calls in {country}. "
     "<a href=\"https://newsroom.lumenmobile.example/travel\">Details here</a>.</p>", NEUTRAL),
    ("newsroom", "Lumen Mobile names a new head of customer care",
     "The company says shorter wait times are the first priority.", NEUTRAL),
    ("newsroom", "Lumen Mobile to retire its 3G network next spring",
     "Customers with older devices will be offered a free replacement.", NEUTRAL),
    ("news", "Lumen Mobile updates terms for legacy plans",
     "The changes mostly affect customers on plans opened before 2022.", NEUTRAL),
    ("news", "Lumen Mobile subscriber growth slows in third quarter",
     "The carrier added {n}0,000 lines, below analyst expectations.", NEUTRAL),
    ("news", "How to set up eSIM on Lumen Mobile: a quick guide",
     "A step-by-step walkthrough for the {device} and other recent phones.", NEUTRAL),
    ("news", "Lumen Mobile partners with {city} transit for station Wi-Fi",
     "Riders will get free Wi-Fi at {n} stations starting in spring.", NEUTRAL),
    ("news", "Holiday phone deals: what the regional carriers are offering",
     "Lumen Mobile, among others, is discounting the {device} for new lines.", NEUTRAL),
    ("news", "Carrier roundup: plan prices this winter",
     "We compare {plan} with similar plans from other regional carriers.", NEUTRAL),
    ("news", "Lumen Mobile tests satellite texting in rural areas",
     "A small pilot will run in parts of the Mountain West this winter.", NEUTRAL),
    ("news", "Lumen Mobile outage leaves customers in {city} without service",
     "Thousands of customers reported dropped calls and no data for several hours on "
     "{weekday}. The company blamed a damaged fiber line.", COMPLAINT),
    ("news", "Customers angry over double billing at Lumen Mobile",
     "Some customers say they were charged twice for November and are still waiting for "
     "refunds.", COMPLAINT),
    ("news", "Lumen Mobile app update causes widespread login failures",
     "Users reported being stuck in a login loop; a fix is rolling out.", COMPLAINT),
    ("news", "Lumen Mobile raises prices on older unlimited plans",
     "Long-time customers are frustrated by a {amount} yearly increase.", COMPLAINT),
    ("news", "Lumen Mobile tops regional customer satisfaction survey",
     "The carrier scored best for value and app experience.", PRAISE),
    ("news", "Review: Lumen Flex 5G is one of the best value plans this year",
     "Fast, fair and simple, with a great app. A strong pick for most people.", PRAISE),
    ("news", "Lumen Mobile wins award for network reliability in {city}",
     "Independent tests found excellent coverage and the fewest dropped calls.", PRAISE),
    ("newsroom", "The Lumen Mobile app gets a redesign",
     "The update brings faster bill pay and a new usage tracker.", NEUTRAL),
    ("newsroom", "Lumen Mobile extends holiday hours at {n} stores",
     "Stores in {city} and other cities stay open until 9pm through December.", NEUTRAL),
    ("news", "What the Lumen Mobile price change means for you",
     "A plain-English guide to the new fees on {plan}.", NEUTRAL),
    ("news", "Lumen Mobile brings 5G home internet to {city}",
     "The service launches next month with introductory pricing.", NEUTRAL),
    ("news", "Lumen Mobile support wait times under scrutiny",
     "Customers describe hold times of more than an hour and say they are fed up; the carrier "
     "promises improvements.", COMPLAINT),
    ("news", "Lumen Mobile hiring 200 support agents in {city}",
     "The new jobs are part of a plan to cut wait times.", NEUTRAL),
    ("news", "Hands-on: the {device} on Lumen Mobile's network",
     "Speeds were strong downtown but dipped indoors.", NEUTRAL),
    ("newsroom", "Lumen Mobile launches a small business plan",
     "Business customers get shared data and priority support.", NEUTRAL),
    ("news", "Lumen Mobile customers report slow data speeds in {city}",
     "Several users said speeds dropped sharply in the evenings and called the service "
     "frustrating.", COMPLAINT),
    ("news", "Lumen Mobile rolls out Wi-Fi calling to more phones",
     "The {device} and other recent models now support it.", NEUTRAL),
    ("news", "Lumen Mobile brings back its trade-in offer",
     "Customers can trade in older phones for credit toward the {device}.", NEUTRAL),
)  # fmt: skip
RSS_MAX_USES = 2  # one template may give at most this many items (with different slots)
# The Travel Day Pass item has an HTML summary (to show escaping): always included.
RSS_HTML_ITEM = next(i for i, item in enumerate(RSS_ITEMS) if "<b>" in item[2])
RSS_PLAIN_ITEMS = tuple(item for item in RSS_ITEMS if "<b>" not in item[2])
RSS_FEEDS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    # key -> (site, url style, writers)
    "newsroom": (("https://newsroom.lumenmobile.example", "press", ("Lumen Mobile Newsroom",)),),
    "news": (
        ("https://news.example.com", "dated", ("Dana Whitfield", "Omar Reyes", "Kim Sato")),
        ("https://techwire.example.net", "numeric", ("Priya Shah", "Tom Becker")),
        ("https://metrodaily.example.org", "dated", ("Lauren Holt", "Sam Okoro")),
    ),
}


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """An author as a platform would describe them."""

    id: str | None
    handle: str | None
    name: str | None
    followers: int | None = None

    @property
    def first(self) -> str:
        """First name, for the brand's replies."""
        return (self.name or self.handle or "there").split()[0]

    def as_json(self) -> dict[str, Any]:
        """The ``author`` object of the import schema."""
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        if self.handle is not None:
            out["handle"] = self.handle
        if self.name is not None:
            out["name"] = self.name
        if self.followers is not None:
            out["followers"] = self.followers
        return out


@dataclass
class Mention:
    """One line of mentions.jsonl; ``category`` is internal and never written."""

    platform: str
    external_id: str
    created_at: datetime
    kind: str
    author: Person
    text: str
    url: str
    category: str
    language: str = "en"
    title: str | None = None
    rating: int | None = None
    thread_id: str | None = None
    in_reply_to_id: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    is_brand: bool = False

    def as_json(self) -> dict[str, Any]:
        """The mention in the import schema, keys in a fixed order."""
        out: dict[str, Any] = {
            "platform": self.platform,
            "external_id": self.external_id,
            "kind": self.kind,
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.thread_id is not None:
            out["thread_id"] = self.thread_id
        if self.in_reply_to_id is not None:
            out["in_reply_to_id"] = self.in_reply_to_id
        if self.title is not None:
            out["title"] = self.title
        out["text"] = self.text
        if self.rating is not None:
            out["rating"] = self.rating
        out["language"] = self.language
        out["url"] = self.url
        out["author"] = self.author.as_json()
        if self.metrics:
            out["metrics"] = self.metrics
        out["is_brand"] = self.is_brand
        return out


@dataclass(frozen=True)
class Step:
    """One message of a conversation before it gets a time and an id."""

    author: Person
    text: str
    category: str
    parent: int | None  # index of the step it answers
    delay: timedelta  # after the parent
    language: str = "en"


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


def slugify(text: str, sep: str = "-", limit: int = 60) -> str:
    """Lower-case ASCII slug, as in article and Reddit URLs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip(sep)
    if len(slug) > limit:
        slug = slug[: limit + 1].rsplit(sep, 1)[0]  # cut at a word boundary
    return slug


def minutes(low: int, high: int, rng: random.Random) -> timedelta:
    """A random delay between ``low`` and ``high`` minutes, with seconds."""
    return timedelta(seconds=rng.randint(low * 60, high * 60))


class DemoBuilder:
    """Composes the demo mentions and customers from one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.mentions: list[Mention] = []
        self.used_ids: set[tuple[str, str]] = set()
        self.used_texts: set[str] = set()
        self.used_handles: set[tuple[str, str]] = {("twitter", BRAND_HANDLE.lower())}
        self.used_names: set[str] = set()
        self.used_person_ids: set[str] = {BRAND_ID}
        self.brand = Person(BRAND_ID, BRAND_HANDLE, BRAND_NAME, BRAND_FOLLOWERS)
        self.threads: Counter[str] = Counter()
        # Recurring characters (the customers file refers to them).
        self.greg = self.person("twitter", "Greg Halvorsen", "greghalvorsen", 312)
        self.tasha = self.person("twitter", "Tasha Monroe", "tashamonroe_", 1148)
        self.kevin = self.person("twitter", "Kevin Liu", "kliu_dev", 687)
        self.kevin_reddit = self.person("reddit", "kliu_dev", "kliu_dev", 5421)
        self.priya = self.person("twitter", "Priya Natarajan", "priyanat_studio", 23480)
        self.maya = self.person("twitter", "Maya Okafor", "mayaokafor", 187400)
        self.daniel = self.person("twitter", "Daniel Reyes", "danreyes_tech", 152930)
        self.jose = self.person("twitter", "José Ramírez", "joseramirez_mia", 804)
        self.recurring = [self.greg, self.tasha, self.kevin, self.priya, self.jose]

    # ---- small helpers ------------------------------------------------------------------

    def slots(self, **fixed: str) -> dict[str, str]:
        """Fresh values for every template slot, overridden by ``fixed``."""
        r = self.rng
        values = {
            "brand": "@LumenMobile",
            "plan": r.choice(PLANS),
            "device": r.choice(DEVICES),
            "city": r.choice(CITIES),
            "country": r.choice(COUNTRIES),
            "weekday": r.choice(WEEKDAYS),
            "amount": f"${r.choice(DOLLARS)}.{r.choice(CENTS)}",
            "ndays": str(r.randint(2, 9)),
            "minutes": str(r.choice((45, 50, 65, 80, 95, 110, 130))),
            "hours": str(r.randint(2, 4)),
            "months": str(r.randint(2, 18)),
            "n": str(r.randint(3, 14)),
            "speed": str(r.choice((180, 240, 310, 420, 560))),
            "agent": r.choice(AGENTS),
            "first": "there",
            "still": "",
        }
        values.update(fixed)
        return values

    def unique(self, make: Callable[[], str]) -> str:
        """Call ``make`` until it returns a text not used before."""
        for _ in range(200):
            text = make()
            if text not in self.used_texts:
                self.used_texts.add(text)
                return text
        raise RuntimeError("ran out of distinct texts; add templates")

    def claim(self, platform: str, external_id: str) -> bool:
        """Reserve an id; False if the platform already has it."""
        key = (platform, external_id)
        if key in self.used_ids:
            return False
        self.used_ids.add(key)
        return True

    def pick_time(self, room: timedelta = timedelta(0)) -> datetime:
        """A time in the window, skewed to recent days, leaving ``room`` before the end."""
        usable = (SPAN - room).total_seconds()
        offset = room.total_seconds() + usable * self.rng.random() ** 1.7
        return END - timedelta(seconds=int(offset))

    def days_ago(self, days: float, room: timedelta = timedelta(0)) -> datetime:
        """About ``days`` before the end (give or take half an hour), leaving ``room``."""
        when = END - timedelta(days=days) + minutes(-30, 30, self.rng)
        latest = END - room - timedelta(minutes=1)
        return min(when, latest).replace(microsecond=0)

    def followers(self) -> int | None:
        """Long-tail follower counts; some authors don't show them."""
        r = self.rng.random()
        if r < 0.08:
            return None
        if r < 0.12:
            return self.rng.randint(10_000, 60_000)
        if r < 0.22:
            return self.rng.randint(2_000, 9_500)
        return int(math.exp(self.rng.uniform(math.log(20), math.log(2_000))))

    def numeric_id(self, digits: int) -> str:
        """A random number with exactly ``digits`` digits."""
        return str(self.rng.randint(10 ** (digits - 1), 10**digits - 1))

    def b36(self, length: int) -> str:
        """Random base-36 text, as in Reddit ids."""
        head = self.rng.choice(BASE36[1:])
        return head + "".join(self.rng.choice(BASE36) for _ in range(length - 1))

    # ---- people -------------------------------------------------------------------------

    def person(self, platform: str, name: str, handle: str, followers: int | None) -> Person:
        """A named person; the handle must be new."""
        if (platform, handle.lower()) in self.used_handles:
            raise ValueError(f"handle {handle} already taken")
        self.used_handles.add((platform, handle.lower()))
        self.used_names.add(name)
        person_id = BRAND_ID
        while person_id in self.used_person_ids:
            if platform == "twitter":
                person_id = self.numeric_id(self.rng.choice((9, 10, 18, 19)))
            elif platform == "reddit":
                person_id = "t2_" + self.b36(8)
            else:
                person_id = self.numeric_id(10)
        self.used_person_ids.add(person_id)
        return Person(person_id, handle, name, followers)

    def new_name(self) -> tuple[str, str]:
        """An unused (first, last) name pair."""
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if f"{first} {last}" not in self.used_names:
                return first, last

    def new_tweeter(self) -> Person:
        """A new customer on X with a plausible handle and display name."""
        r = self.rng
        while True:
            first, last = self.new_name()
            handle = r.choice(
                (
                    f"{first}{last}",
                    f"{first}_{last}",
                    f"{first}{last[0]}{r.randint(1, 99)}",
                    f"the{first}{last[0]}",
                    f"{last}{first[0]}",
                    f"{first}_in_{r.choice(CITIES).replace(' ', '')}",
                    f"{first}{r.randint(70, 99)}",
                )
            ).lower()
            if len(handle) <= 15 and ("twitter", handle) not in self.used_handles:
                break
        style = r.random()
        if style < 0.12:
            name = f"{first} {last[0]}."
        elif style < 0.17:
            name = f"{first} {r.choice(('🌻', '☕', '🏀', '🎧'))}"
        else:
            name = f"{first} {last}"
        return self.person("twitter", name, handle, self.followers())

    def new_redditor(self) -> Person:
        """A new Reddit user; karma stands in for followers, and is sometimes unknown."""
        r = self.rng
        while True:
            adjective, noun = r.choice(ADJECTIVES), r.choice(NOUNS)
            handle = r.choice(
                (
                    f"{adjective.title()}_{noun.title()}_{r.randint(100, 9999)}",
                    f"{adjective}_{noun}",
                    f"throwaway_lumen{r.randint(10, 99)}",
                    f"{noun}{r.choice(CITIES).replace(' ', '').lower()}",
                    f"{adjective}{noun}{r.randint(1, 99)}",
                )
            )
            if ("reddit", handle.lower()) not in self.used_handles:
                break
        karma = r.randint(1, 40_000) if r.random() < 0.7 else None
        return self.person("reddit", handle, handle, karma)

    def new_reviewer(self, category: str) -> Person:
        """A new App Store reviewer nickname (no follower counts there)."""
        r = self.rng
        while True:
            first, _ = self.new_name()
            city = r.choice(CITIES)
            options = [f"{first}{r.randint(1, 999)}", f"{r.choice(ADJECTIVES)}{r.choice(NOUNS)}"]
            if category == COMPLAINT:
                options += [f"Not happy in {city}", f"frustrated_user{r.randint(10, 99)}"]
            elif category == PRAISE:
                options += [f"Happy in {city}", f"{first} from {city}"]
            nickname = r.choice(options)
            if ("appstore", nickname.lower()) not in self.used_handles:
                return self.person("appstore", nickname, nickname, None)

    # ---- texts --------------------------------------------------------------------------

    def twitter_brand(self) -> str:
        """How a tweet names the brand: mostly the @handle."""
        return self.rng.choice(("@LumenMobile",) * 6 + ("Lumen", "Lumen Mobile"))

    def complaint(self, topic: str, slots: dict[str, str], decorate: bool = True) -> str:
        """A complaint about ``topic``; ``decorate`` adds tweet-style openers and closers."""

        def make() -> str:
            text = self.rng.choice(COMPLAINTS[topic]).format_map(slots)
            if decorate and self.rng.random() < 0.2:
                prefix = self.rng.choice(COMPLAINT_PREFIXES)
                if prefix.endswith(", ") and not text.startswith(("Lumen", "I ", "I'm")):
                    text = text[0].lower() + text[1:]
                text = prefix + text
            if decorate and self.rng.random() < 0.35:
                text += self.rng.choice(COMPLAINT_SUFFIXES)
            return text

        return self.unique(make)

    def praise(self, slots: dict[str, str], decorate: bool = True) -> str:
        """A happy customer."""

        def make() -> str:
            text = self.rng.choice(PRAISE_TEXTS).format_map(self.slots(brand=slots["brand"]))
            if decorate and self.rng.random() < 0.3:
                text += self.rng.choice(PRAISE_SUFFIXES)
            return text

        return self.unique(make)

    def question(self, slots: dict[str, str]) -> tuple[str, str]:
        """A tweet asking the brand something, and the brand's answer."""
        pair: list[str] = []

        def make() -> str:
            question, answer = self.rng.choice(QUESTIONS)
            fresh = self.slots(**{k: v for k, v in slots.items() if k in ("first", "agent")})
            pair[:] = [answer.format_map(fresh) + " ^{agent}".format_map(fresh)]
            return (
                self.rng.choice(QUESTION_PREFIXES)
                + question.format_map(fresh)
                + self.rng.choice(QUESTION_SUFFIXES)
            )

        text = self.unique(make)
        return text, pair[0]

    def neutral(self, slots: dict[str, str]) -> str:
        """Chatter that mentions the brand without wanting anything."""
        return self.unique(
            lambda: self.rng.choice(NEUTRAL_TWEETS).format_map(self.slots(brand=slots["brand"]))
        )

    # ---- twitter ------------------------------------------------------------------------

    def tweet_id(self, when: datetime) -> str:
        """A 19-digit snowflake id that encodes ``when``, like real post ids."""
        ms = int(when.timestamp()) * 1000 + self.rng.randint(0, 999)
        while True:
            value = str(((ms - TWITTER_EPOCH_MS) << 22) | self.rng.getrandbits(22))
            if self.claim("twitter", value):
                return value

    def add_tweet(
        self,
        author: Person,
        text: str,
        category: str,
        when: datetime,
        parent: Mention | None = None,
        language: str = "en",
    ) -> Mention:
        """Record one post on X (a reply when ``parent`` is given)."""
        tweet_id = self.tweet_id(when)
        handle = author.handle or BRAND_HANDLE
        mention = Mention(
            platform="twitter",
            external_id=tweet_id,
            created_at=when,
            kind="reply" if parent else "post",
            author=author,
            text=text,
            url=f"https://x.com/{handle}/status/{tweet_id}",
            category=BRAND if author is self.brand else category,
            language=language,
            thread_id=parent.thread_id if parent else tweet_id,
            in_reply_to_id=parent.external_id if parent else None,
            is_brand=author is self.brand,
        )
        self.mentions.append(mention)
        return mention

    def add_conversation(self, steps: Sequence[Step], root_time: datetime | None = None) -> None:
        """Record a conversation on X; picks a root time that leaves room for the replies."""
        offsets: list[timedelta] = []
        for step in steps:
            base = offsets[step.parent] if step.parent is not None else timedelta(0)
            offsets.append(base + step.delay)
        room = max(offsets)
        when = root_time if root_time is not None else self.pick_time(room)
        made: list[Mention] = []
        for step, offset in zip(steps, offsets, strict=True):
            parent = made[step.parent] if step.parent is not None else None
            made.append(
                self.add_tweet(
                    step.author, step.text, step.category, when + offset, parent, step.language
                )
            )
        if len(steps) > 1:
            self.threads["twitter"] += 1

    def brand_step(self, customer: Person, body: str, parent: int, *also: Person) -> Step:
        """The brand answering ``customer`` (and anyone else in ``also``)."""
        handles = " ".join(f"@{p.handle}" for p in (*also, customer))
        return Step(self.brand, f"{handles} {body}", BRAND, parent, minutes(4, 95, self.rng))

    def customer_step(self, customer: Person, body: str, category: str, parent: int) -> Step:
        """A customer answering the brand."""
        return Step(customer, f"@LumenMobile {body}", category, parent, minutes(15, 420, self.rng))

    def complaint_conversation(
        self, shape: str, customer: Person, topic: str, slots: dict[str, str], root: str = ""
    ) -> list[Step]:
        """Complaint -> brand -> follow-ups, in one of several shapes.

        shape: "short" (2), "resolved" (3), "angry" (3), "resolved_glad" (4),
        "escalated" (4), "long_resolved" (5) or "chime" (3: another customer joins in).
        """
        r = self.rng
        fill = dict(slots, first=customer.first, still=r.choice(STILL[topic]))
        opener = root or self.complaint(topic, dict(fill, brand="@LumenMobile"), decorate=True)
        if "@LumenMobile" not in opener:
            opener = f"@LumenMobile {opener}"
        steps = [Step(customer, opener, COMPLAINT, None, timedelta(0))]
        sorry = r.choice(BRAND_SORRY[topic] + BRAND_SORRY_GENERIC).format_map(fill)
        if shape == "chime":
            other = self.new_tweeter()
            chime = self.unique(lambda: r.choice(CHIME_INS).format_map(self.slots(**fill)))
            steps.append(
                Step(other, f"@{customer.handle} @LumenMobile {chime}", COMPLAINT, 0,
                     minutes(5, 120, r))
            )  # fmt: skip
            steps.append(self.brand_step(customer, sorry, 1, other))
            return steps
        steps.append(self.brand_step(customer, sorry, 0))
        if shape == "short":
            return steps
        resolved = r.choice(RESOLVED[topic] + RESOLVED_GENERIC).format_map(fill)
        if shape in ("resolved", "resolved_glad"):
            steps.append(self.customer_step(customer, resolved, PRAISE, 1))
            if shape == "resolved_glad":
                steps.append(self.brand_step(customer, r.choice(BRAND_GLAD).format_map(fill), 2))
            return steps
        angry = self.unique(lambda: r.choice(ANGRY_FOLLOWUPS).format_map(fill))
        steps.append(self.customer_step(customer, angry, COMPLAINT, 1))
        if shape == "angry":
            return steps
        steps.append(self.brand_step(customer, r.choice(BRAND_ESCALATE).format_map(fill), 2))
        if shape == "long_resolved":
            steps.append(self.customer_step(customer, resolved, PRAISE, 3))
        return steps

    def scripted_twitter(self) -> None:
        """The recurring customers, the influencers and the foreign-language posts."""
        r = self.rng
        greg_slots = self.slots(plan="Lumen Unlimited", amount="$64.99", first="Greg")
        self.add_tweet(
            self.greg,
            "@LumenMobile you charged me twice for Lumen Unlimited this month. $64.99 taken out "
            "two times. Please fix this, it's not okay and I'm really annoyed.",
            COMPLAINT,
            self.days_ago(12.2),
        )
        greg_escalated = self.complaint_conversation(
            "escalated",
            self.greg,
            "billing",
            greg_slots,
            root="@LumenMobile four days later and still no refund for the double charge. "
            "Support chat just keeps closing my case. Terrible.",
        )
        self.add_conversation(greg_escalated, self.days_ago(7.9, timedelta(days=1)))
        self.add_conversation(
            [
                Step(self.greg, "@LumenMobile day 10 of waiting for my $64.99 refund. Worst "
                     "billing experience I've ever had.", COMPLAINT, None, timedelta(0)),
                self.brand_step(self.greg, BRAND_SORRY["billing"][0].format_map(greg_slots), 0),
                self.customer_step(self.greg, "Refund finally showed up this morning. Thanks "
                                   "for sorting it, even if it took way too long.", PRAISE, 1),
            ],
            self.days_ago(1.9, timedelta(days=1)),
        )  # fmt: skip

        tucson = self.slots(city="Tucson", plan="Lumen Unlimited Max", first="Tasha")
        self.add_tweet(
            self.tasha,
            "No signal at home in Tucson again. @LumenMobile what is going on? Dropped calls "
            "all evening. Awful.",
            COMPLAINT,
            self.days_ago(10.4),
        )
        self.add_conversation(
            [
                Step(self.tasha, "@LumenMobile still no signal in Tucson. It's been days and I "
                     "work from home. I'm so angry.", COMPLAINT, None, timedelta(0)),
                self.brand_step(self.tasha, BRAND_SORRY["network"][0].format_map(tucson), 0),
                self.customer_step(self.tasha, "I sent my ZIP code twice already. Still no "
                                   "signal, still no answer. Unbelievable.", COMPLAINT, 1),
            ],
            self.days_ago(5.9, timedelta(days=1)),
        )  # fmt: skip
        self.add_tweet(
            self.tasha,
            "Day 11 with basically no signal in Tucson. @LumenMobile I'm paying for Lumen "
            "Unlimited Max for this? Terrible. Looking at other carriers this weekend.",
            COMPLAINT,
            self.days_ago(0.7),
        )

        kevin_slots = self.slots(device="Nova 12 Pro", first="Kevin")
        self.add_tweet(
            self.kevin,
            "@LumenMobile the app crashes every time I open billing on my Nova 12 Pro. "
            "Reinstalled twice. Useless.",
            COMPLAINT,
            self.days_ago(9.0),
        )
        self.add_conversation(
            [
                Step(self.kevin, "@LumenMobile login loop is back after today's update. Can't "
                     "see my bill at all. So annoying.", COMPLAINT, None, timedelta(0)),
                self.brand_step(self.kevin, BRAND_SORRY["app"][0].format_map(kevin_slots), 0),
                self.customer_step(self.kevin, "the hotfix from your team worked, I'm back in. "
                                   "Thanks!", PRAISE, 1),
                self.brand_step(self.kevin, BRAND_GLAD[0].format_map(kevin_slots), 2),
            ],
            self.days_ago(1.4, timedelta(days=1)),
        )  # fmt: skip

        priya = self.slots(first="Priya", agent="SK")
        self.add_conversation(
            [
                Step(self.priya, "@LumenMobile all 6 business lines at my studio in Denver have "
                     "been down since 8am. Clients can't reach us. This is costing me money. "
                     "Unacceptable.", COMPLAINT, None, timedelta(0)),
                Step(self.brand, "@priyanat_studio We're so sorry, Priya. We can see a network "
                     "issue affecting parts of Denver and engineers are on it. Please DM us "
                     "your business account number so we can prioritise your lines. ^SK", BRAND,
                     0, minutes(3, 6, r)),
                Step(self.priya, "@LumenMobile DMed. Three hours later, still nothing. I'm on a "
                     "business plan, this is terrible.", COMPLAINT, 1, minutes(170, 190, r)),
                self.brand_step(self.priya, BRAND_ESCALATE[0].format_map(priya), 2),
                Step(self.priya, "@LumenMobile Lines are back and your business team called me "
                     "directly. Thanks for escalating.", PRAISE, 3, minutes(50, 90, r)),
            ],
            self.days_ago(2.81, timedelta(days=1)),
        )  # fmt: skip
        self.add_tweet(
            self.priya,
            "@LumenMobile and now my business bill charges full price for the day we had no "
            "service. Really disappointed after 6 years as a customer.",
            COMPLAINT,
            self.days_ago(0.4),
        )

        other = self.new_tweeter()
        self.add_conversation(
            [
                Step(self.maya, "Hearing from a lot of @LumenMobile customers in Chicago about a "
                     "major outage this afternoon. No data, calls failing. If you're affected, "
                     "my DMs are open.", NEUTRAL, None, timedelta(0)),
                Step(self.brand, "@mayaokafor Hi Maya, we're aware of a network issue in parts "
                     "of Chicago and engineers are working on it. Live updates at "
                     "status.lumenmobile.example ^TR", BRAND, 0, minutes(8, 20, r)),
                Step(other, "@mayaokafor @LumenMobile Yes, no service in the Loop since 2pm. "
                     "Ridiculous.", COMPLAINT, 0, minutes(10, 40, r)),
            ],
            self.days_ago(5.625, timedelta(days=1)),
        )  # fmt: skip
        self.add_tweet(
            self.daniel,
            "Been testing Lumen Flex 5G for a month: consistently fast in Austin, fair price, "
            "and the app is finally decent. Full review on Monday. @LumenMobile",
            PRAISE,
            self.days_ago(4.8),
        )

        self.add_conversation(
            [
                Step(self.jose, "@LumenMobile llevo cuatro días sin señal en Miami y nadie me da "
                     "una solución. ¡Es inaceptable!", COMPLAINT, None, timedelta(0), "es"),
                Step(self.brand, "@joseramirez_mia Lamentamos mucho las molestias, José. Por "
                     "favor envíanos un DM con tu número de cuenta y lo revisamos enseguida. "
                     "^MG", BRAND, 0, minutes(10, 60, r), "es"),
                Step(self.jose, "@LumenMobile Ya funciona, ¡muchas gracias por la ayuda!",
                     PRAISE, 1, minutes(120, 300, r), "es"),
            ],
            self.days_ago(2.9, timedelta(days=1)),
        )  # fmt: skip
        self.add_tweet(
            self.new_tweeter(),
            "@LumenMobile Seit drei Tagen kein Netz in Chicago und der Kundenservice hilft "
            "nicht weiter. Echt ärgerlich!",
            COMPLAINT,
            self.pick_time(),
            language="de",
        )
        self.add_tweet(
            self.new_tweeter(),
            "@LumenMobile why does the app show <b>Balance due</b> & a blank screen when I "
            "already paid?? Terrible.",
            COMPLAINT,
            self.pick_time(),
        )

    def random_conversations(self) -> None:
        """Eighteen conversations with new customers."""
        shapes = (
            ["resolved"] * 3
            + ["angry"] * 3
            + ["short"] * 2
            + ["resolved_glad", "escalated", "long_resolved", "chime", "chime"]
            + ["question", "question", "question_thanks", "question_thanks", "praise"]
        )
        self.rng.shuffle(shapes)
        for shape in shapes:
            customer = self.new_tweeter()
            slots = self.slots(first=customer.first)
            if shape == "praise":
                text = self.praise(dict(slots, brand="@LumenMobile"))
                if "@LumenMobile" not in text:
                    text = f"@LumenMobile {text}"
                steps = [
                    Step(customer, text, PRAISE, None, timedelta(0)),
                    self.brand_step(customer, self.rng.choice(BRAND_THANKS).format_map(slots), 0),
                ]
            elif shape.startswith("question"):
                question, answer = self.question(slots)
                steps = [
                    Step(customer, question, QUESTION, None, timedelta(0)),
                    self.brand_step(customer, answer, 0),
                ]
                if shape == "question_thanks":
                    thanks = self.unique(lambda: self.rng.choice(QUESTION_THANKS))
                    steps.append(self.customer_step(customer, thanks, PRAISE, 1))
            else:
                topic = self.rng.choice(TOPICS)
                steps = self.complaint_conversation(shape, customer, topic, slots)
            self.add_conversation(steps)

    def standalone_tweets(self) -> None:
        """Fill up to the twitter target with single posts from new customers."""
        count = TARGETS["twitter"] - sum(m.platform == "twitter" for m in self.mentions)
        mix = self.quota(count, {COMPLAINT: 0.28, PRAISE: 0.25, QUESTION: 0.4, NEUTRAL: 0.07})
        for category in mix:
            slots = self.slots(brand=self.twitter_brand())
            if category == COMPLAINT:
                text = self.complaint(self.rng.choice(TOPICS), slots)
            elif category == PRAISE:
                text = self.praise(slots)
            elif category == QUESTION:
                text = self.question(slots)[0]
            else:
                text = self.neutral(slots)
            self.add_tweet(self.new_tweeter(), text, category, self.pick_time())

    def quota(self, count: int, shares: dict[str, float]) -> list[str]:
        """``count`` categories in the given shares, shuffled."""
        out: list[str] = []
        for category, share in shares.items():
            out += [category] * round(count * share)
        out = out[:count] + [NEUTRAL] * (count - len(out))
        self.rng.shuffle(out)
        return out

    # ---- reddit -------------------------------------------------------------------------

    def add_reddit(
        self,
        author: Person,
        title: str | None,
        text: str,
        category: str,
        when: datetime,
        parent: Mention | None = None,
    ) -> Mention:
        """Record a submission (no ``parent``) or a comment in r/LumenMobile."""
        if parent is None:
            while not self.claim("reddit", post_id := "t3_" + self.b36(6)):
                pass
            slug = slugify(title or text, "_", 50)
            url = f"https://www.reddit.com/r/{SUBREDDIT}/comments/{post_id[3:]}/{slug}/"
            thread_id = post_id
        else:
            while not self.claim("reddit", post_id := "t1_" + self.b36(7)):
                pass
            thread_id = parent.thread_id or parent.external_id
            root = next(m for m in self.mentions if m.external_id == thread_id)
            url = root.url + post_id[3:] + "/"
        mention = Mention(
            platform="reddit",
            external_id=post_id,
            created_at=when,
            kind="reply" if parent else "post",
            author=author,
            text=text,
            url=url,
            category=category,
            title=title if parent is None else None,
            thread_id=thread_id,
            in_reply_to_id=parent.external_id if parent else None,
        )
        self.mentions.append(mention)
        return mention

    def reddit_threads(self) -> None:
        """The eight scripted discussions, each with two to six comments."""
        r = self.rng
        for index, thread in enumerate(REDDIT_THREADS):
            slots = self.slots()
            op = self.kevin_reddit if index == APP_THREAD else self.new_redditor()
            regular = [c for c in thread.comments if not c.op]
            chosen = r.sample(regular, r.randint(2, min(5, len(regular))))
            op_replies = [c for c in thread.comments if c.op]
            if op_replies and r.random() < 0.75:
                chosen.append(op_replies[0])
            delays = [minutes(5, 540, r) for _ in chosen]
            room = sum(delays, timedelta(0))
            when = (
                self.days_ago(4.1, room)
                if index == APP_THREAD
                else self.pick_time(room + timedelta(hours=1))
            )
            title, body = thread.title.format_map(slots), thread.body.format_map(slots)
            self.used_texts.add(body)
            post = self.add_reddit(op, title, body, thread.category, when)
            comments: list[Mention] = []
            for comment, delay in zip(chosen, delays, strict=True):
                others = [c for c in comments if c.author != op]
                asked = [c for c in others if c.category == QUESTION]
                if comment.op and others:
                    parent = asked[0] if asked else r.choice(others)  # OP answers a question
                elif comments and r.random() < 0.35:
                    parent = r.choice(comments)
                else:
                    parent = post
                author = op if comment.op else self.new_redditor()
                text = comment.text.format_map(slots)
                when = max(parent.created_at, (comments or [post])[-1].created_at) + delay
                comments.append(self.add_reddit(author, None, text, comment.category, when, parent))
            self.threads["reddit"] += 1

    def standalone_reddit(self) -> None:
        """Fill up to the reddit target with submissions whose comments are not in the demo."""
        r = self.rng
        count = TARGETS["reddit"] - sum(m.platform == "reddit" for m in self.mentions)
        mix = self.quota(count, {COMPLAINT: 0.25, PRAISE: 0.2, QUESTION: 0.45, NEUTRAL: 0.1})
        for category in mix:
            slots = self.slots(brand=r.choice(("Lumen", "Lumen", "Lumen Mobile")))
            if category == COMPLAINT:
                topic = r.choice(TOPICS)
                title = r.choice(REDDIT_COMPLAINT_TITLES[topic]).format_map(slots)
                body = f"{self.complaint(topic, slots, decorate=False)} "
                body = (body + r.choice(REDDIT_COMPLAINT_TAILS)).strip()
            elif category == PRAISE:
                title = r.choice(REDDIT_PRAISE_TITLES)
                body = self.praise(slots, decorate=False)
            elif category == QUESTION:
                question = self.unique(
                    lambda: r.choice(QUESTIONS)[0].format_map(self.slots(brand="Lumen"))
                )
                # Asked of the community rather than of the brand.
                question = re.sub(r"^do you ", "does Lumen ", question).replace("your ", "the ")
                title = question[0].upper() + question[1:]
                body = r.choice(REDDIT_QUESTION_BODIES)
            else:
                fresh = self.slots()
                title, body = (s.format_map(fresh) for s in r.choice(REDDIT_NEUTRAL))
            self.add_reddit(self.new_redditor(), title, body, category, self.pick_time())

    # ---- app store and rss ----------------------------------------------------------------

    def app_reviews(self) -> None:
        """App Store reviews of the "Lumen Mobile - My Account" app."""
        r = self.rng
        self.add_review(
            self.new_reviewer(COMPLAINT),
            "Muy mala actualización",
            "La aplicación se cierra cada vez que intento pagar mi factura. Muy frustrante.",
            COMPLAINT,
            1,
            "es",
        )
        by_category: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for review in APPSTORE_REVIEWS:
            by_category.setdefault(review[2], []).append(review)
        count = TARGETS["appstore"] - 1
        mix = self.quota(count, {COMPLAINT: 0.44, PRAISE: 0.36, NEUTRAL: 0.1, QUESTION: 0.1})
        for category in mix:
            titles_body: list[str] = []

            def make(category: str = category, out: list[str] = titles_body) -> str:
                titles, body, _ = r.choice(by_category[category])
                out[:] = [r.choice(titles)]
                return body.format_map(self.slots()) + r.choice(APPSTORE_TAILS[category])

            text = self.unique(make)
            if category == COMPLAINT:
                rating = r.choice((1, 1, 1, 2, 2))
            elif category == PRAISE:
                rating = r.choice((4, 4, 5, 5, 5))
            else:
                rating = 3
            self.add_review(self.new_reviewer(category), titles_body[0], text, category, rating)

    def add_review(
        self, author: Person, title: str, text: str, category: str, rating: int, lang: str = "en"
    ) -> None:
        """Record one App Store review."""
        while not self.claim("appstore", review_id := self.numeric_id(10)):
            pass
        self.mentions.append(
            Mention(
                platform="appstore",
                external_id=review_id,
                created_at=self.pick_time(),
                kind="review",
                author=author,
                text=text,
                url=APP_URL,
                category=category,
                language=lang,
                title=title,
                rating=rating,
            )
        )

    def rss_items(self) -> None:
        """News and press items from the feeds the demo follows."""
        r = self.rng
        uses: Counter[str] = Counter()
        for index in range(TARGETS["rss"]):
            picked: list[str] = []
            choices = [item for item in RSS_PLAIN_ITEMS if uses[item[1]] < RSS_MAX_USES]

            def make(
                out: list[str] = picked, first: bool = index == 0, choices: list[RssItem] = choices
            ) -> str:
                item = RSS_ITEMS[RSS_HTML_ITEM] if first else r.choice(choices)
                feed_key, title, summary, category = item
                slots = self.slots()
                out[:] = [title, feed_key, summary.format_map(slots), category]
                return title.format_map(slots)

            title = self.unique(make)
            template, feed_key, summary, category = picked
            uses[template] += 1
            site, style, writers = r.choice(RSS_FEEDS[feed_key])
            when = self.pick_time()
            slug = slugify(title)
            if style == "press":
                url = f"{site}/press/{when:%Y/%m}/{slug}"
                guid = url
            elif style == "numeric":
                url = f"{site}/{slug}/"
                guid = f"{site}/?p={r.randint(40000, 49999)}"
            else:
                url = f"{site}/{when:%Y/%m/%d}/{slug}"
                guid = url
            if not self.claim("rss", guid):
                raise RuntimeError(f"duplicate guid {guid}")
            self.mentions.append(
                Mention(
                    platform="rss",
                    external_id=guid,
                    created_at=when,
                    kind="post",
                    author=Person(None, None, r.choice(writers)),
                    text=summary,
                    url=url,
                    category=category,
                    title=title,
                )
            )

    # ---- finishing ----------------------------------------------------------------------

    def add_metrics(self) -> None:
        """Engagement counts, consistent with the replies present in the file."""
        r = self.rng
        children = Counter(m.in_reply_to_id for m in self.mentions if m.in_reply_to_id)
        threads = Counter(m.thread_id for m in self.mentions if m.in_reply_to_id)
        for m in self.mentions:
            if m.platform == "twitter":
                if m.is_brand:
                    likes = r.randint(0, 6)
                else:
                    reach = m.author.followers or 60
                    likes = int(reach * r.uniform(0.0, 0.012)) + r.randint(0, 4)
                reposts = int(likes * r.uniform(0.0, 0.35))
                m.metrics = {
                    "likes": likes,
                    "reposts": reposts,
                    "replies": max(children[m.external_id], r.randint(0, 1 + likes // 10)),
                    "quotes": int(reposts * r.uniform(0.0, 0.3)),
                }
            elif m.platform == "reddit":
                if m.in_reply_to_id is None:
                    upvotes = int(r.paretovariate(1.3) * 3)
                    extra = r.randint(0, 3) if r.random() < 0.3 else 0
                    m.metrics = {
                        "upvotes": upvotes,
                        "comments": threads[m.external_id] + extra,
                    }
                else:
                    m.metrics = {"upvotes": r.randint(0, 40)}

    def build(self) -> list[Mention]:
        """Every mention, oldest first."""
        self.scripted_twitter()
        self.random_conversations()
        self.standalone_tweets()
        self.reddit_threads()
        self.standalone_reddit()
        self.app_reviews()
        self.rss_items()
        self.mentions.sort(key=lambda m: (m.created_at, m.platform, m.external_id))
        self.add_metrics()
        for m in self.mentions:
            if not START <= m.created_at <= END:
                raise RuntimeError(f"{m.external_id} is outside the window: {m.created_at}")
        return self.mentions

    # ---- customers ----------------------------------------------------------------------

    def customers(self) -> list[dict[str, str]]:
        """CRM records: some match mention authors by handle, the rest never posted."""
        r = self.rng
        tweeters: list[Person] = []
        redditors: list[Person] = []
        for m in self.mentions:
            if m.is_brand or m.author in tweeters or m.author in redditors:
                continue
            if m.platform == "twitter":
                tweeters.append(m.author)
            elif m.platform == "reddit" and m.author != self.kevin_reddit:
                redditors.append(m.author)
        scripted = {self.greg: "plus", self.tasha: "standard", self.kevin: "business"}
        scripted |= {self.priya: "vip", self.jose: "standard", self.daniel: "plus"}
        others = [p for p in tweeters if p not in scripted]
        matched: list[tuple[str, str, str, str]] = []  # name, tier, twitter, reddit
        for person, tier in scripted.items():
            reddit = "kliu_dev" if person is self.kevin else ""
            matched.append((person.name or "", tier, person.handle or "", reddit))
        # Display names like "Nina R." or "Nina 🌻" are not what a CRM holds.
        full_names = [
            p for p in others if p.name and re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", p.name)
        ]
        for person in r.sample(full_names, 7):
            matched.append((person.name or "", self.tier(), person.handle or "", ""))
        for person in r.sample(redditors, 2):
            first, last = self.new_name()
            self.used_names.add(f"{first} {last}")
            matched.append((f"{first} {last}", self.tier(), "", person.handle or ""))
        rows = list(matched)
        while len(rows) < 33:
            first, last = self.new_name()
            self.used_names.add(f"{first} {last}")
            handle = ""
            if r.random() < 0.4:
                candidate = f"{first}{last}{r.randint(1, 9)}".lower()
                if ("twitter", candidate) not in self.used_handles and len(candidate) <= 15:
                    handle = candidate
                    self.used_handles.add(("twitter", candidate))
            rows.append((f"{first} {last}", self.tier(), handle, ""))
        r.shuffle(rows)
        out: list[dict[str, str]] = []
        emails: set[str] = set()
        phones: set[str] = set()
        for index, (name, tier, twitter, reddit) in enumerate(rows):
            local = slugify(name, ".")
            domain = r.choice(("example.com", "example.com", "example.org"))
            email = f"{local}@{domain}"
            while email in emails:
                email = f"{local}{r.randint(2, 99)}@{domain}"
            emails.add(email)
            phone = ""
            while not phone or phone in phones:
                area = r.choice(("312", "512", "303", "206", "617", "305", "602", "404", "971"))
                phone = f"+1-{area}-555-01{r.randint(0, 99):02d}"
            phones.add(phone)
            low, high = {
                "standard": (120, 1500),
                "plus": (800, 3200),
                "business": (3000, 24000),
                "vip": (9000, 42000),
            }[tier]
            out.append(
                {
                    "crm_id": f"CRM-{10001 + index}",
                    "name": name,
                    "email": email,
                    "phone": phone,
                    "tier": tier,
                    "lifetime_value": f"{r.uniform(low, high):.2f}",
                    # Some CRM records lack the handle the customer posts under: identity
                    # resolution then suggests the link, for an agent to confirm.
                    "twitter_handle": "" if name in UNDECLARED_HANDLES else twitter,
                    "reddit_username": reddit,
                }
            )
        return out

    def tier(self) -> str:
        """A tier for an ordinary customer."""
        return self.rng.choice(("standard",) * 5 + ("plus",) * 3 + ("business", "vip"))


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def render_mentions(mentions: Sequence[Mention]) -> str:
    """JSON Lines, one mention a line."""
    return "".join(json.dumps(m.as_json(), ensure_ascii=False) + "\n" for m in mentions)


def render_customers(rows: Sequence[dict[str, str]]) -> str:
    """CSV with a header row."""
    buffer = io.StringIO()
    columns = [
        "crm_id",
        "name",
        "email",
        "phone",
        "tier",
        "lifetime_value",
        "twitter_handle",
        "reddit_username",
    ]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main() -> None:
    """Build the demo and write both files next to this script."""
    builder = DemoBuilder(random.Random(SEED))  # noqa: S311 - demo data, not security
    mentions = builder.build()
    customers = builder.customers()
    MENTIONS_FILE.write_text(render_mentions(mentions), encoding="utf-8")
    CUSTOMERS_FILE.write_text(render_customers(customers), encoding="utf-8")
    per_platform = Counter(m.platform for m in mentions)
    per_category = Counter(m.category for m in mentions)
    print(f"wrote {len(mentions)} mentions to {MENTIONS_FILE.name}: {dict(per_platform)}")
    print(f"  categories: {dict(per_category)}; threads: {dict(builder.threads)}")
    print(f"wrote {len(customers)} customers to {CUSTOMERS_FILE.name}")


if __name__ == "__main__":
    main()
