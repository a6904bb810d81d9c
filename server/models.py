"""Domain values handed from storage to services and on to web and federation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    summary: str
    summary_html: str
    avatar: str | None
    email: str
    is_admin: bool
    status: str
    language: str | None
    timezone: str
    created_at: datetime


@dataclass(frozen=True)
class Group:
    id: int
    slug: str
    name: str
    description: str
    description_html: str
    avatar: str | None
    visibility: str
    join_policy: str
    created_at: datetime
    member_count: int
    followers_can_post: bool = True  # remote followers may post to the group (FEP-1b12)
    header: str | None = None  # header image: a file name under uploads/pictures
    rules: str = ""  # what a person accepts before joining (plain text)
    anonymous_posts: str = "off"  # "on": members may post in the group's name; "approval"
    topics: tuple[str, ...] = ()  # ids of GROUP_TOPICS: what the directory filters by
    place: str = ""  # where it meets or acts, as its members write it
    language: str | None = None  # ISO 639-1, one of GROUP_LANGUAGES


@dataclass(frozen=True)
class Member:
    actor_id: int
    name: str
    domain: str | None
    display_name: str
    avatar: str | None
    role: str
    state: str
    joined_at: datetime
    rules_shown: str | None = None  # the rules the person was shown when asking to join

    @property
    def is_moderator(self) -> bool:
        return self.state == "active" and self.role in ("owner", "moderator")


@dataclass(frozen=True)
class Attachment:
    """A picture of a post: a local file name (under uploads/pictures) or a remote https URL."""

    url: str
    media_type: str
    alt: str
    width: int | None = None
    height: int | None = None

    @property
    def is_local(self) -> bool:
        return not self.url.startswith("https://")


@dataclass(frozen=True)
class MediaUpload:
    """A picture an app uploaded, its uploader's own until a status takes it (post_id)."""

    id: int
    account_id: int
    file: str  # name under uploads/pictures
    media_type: str
    width: int
    height: int
    description: str
    focus: tuple[float, float]  # Mastodon's focal point, x and y from -1 to 1
    post_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Post:
    id: int
    group_id: int | None  # None for a post of a followed remote person
    group_slug: str | None
    author_id: int
    author_name: str
    author_domain: str | None
    author_display_name: str
    author_avatar: str | None
    content: str
    content_html: str
    content_warning: str
    in_reply_to_id: int | None
    created_at: datetime
    updated_at: datetime | None
    uri: str | None = None  # ActivityPub id of a remote post
    url: str | None = None  # its human page on its server
    like_count: int = 0
    event_id: int | None = None  # a comment in an event's discussion
    reply_count: int = 0
    deleted: bool = False  # a tombstone: kept so that its replies keep their thread
    attachments: tuple[Attachment, ...] = ()
    sensitive: bool = False  # pictures hidden until asked (a content warning, or the peer said)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, object]
    attempts: int


@dataclass(frozen=True)
class Actor:
    """Any actor, local or remote, as federation needs it."""

    id: int
    kind: str
    name: str
    domain: str | None
    uri: str | None
    display_name: str
    summary_html: str
    avatar: str | None
    url: str | None
    inbox: str | None
    shared_inbox: str | None
    outbox: str | None
    followers_uri: str | None
    key_id: str | None
    public_key_pem: str | None
    private_key_pem: str | None
    manually_approves: bool
    created_at: datetime
    updated_at: datetime
    # A group's topics, place and language (its own, or as its server describes it).
    topics: tuple[str, ...] = ()
    place: str = ""
    language: str | None = None

    @property
    def is_local(self) -> bool:
        return self.domain is None


@dataclass(frozen=True)
class RemoteActorData:
    """What federation read from a remote actor document, ready to store."""

    uri: str
    kind: str
    name: str
    domain: str
    display_name: str
    summary_html: str
    avatar: str | None
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers_uri: str | None
    key_id: str
    public_key_pem: str
    manually_approves: bool
    topics: tuple[str, ...] = ()
    place: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Follow:
    follower_id: int
    target_id: int
    uri: str
    state: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryStats:
    delivered: int
    pending: int
    failed: int


@dataclass(frozen=True)
class RemoteNote:
    """A post read from a peer's Note (or Page, Article), its references resolved to ids."""

    uri: str
    url: str | None
    content_html: str  # as received: sanitized when stored
    content_warning: str
    in_reply_to_id: int | None  # a known post (local or remote) this one answers
    in_reply_to_uri: str | None
    addressed_group_ids: tuple[int, ...]  # local groups in to / cc / audience
    in_reply_to_event_id: int | None = None  # a local event this one answers
    attachments: tuple[Attachment, ...] = ()
    sensitive: bool = False
    public: bool = True  # addressed to the public collection
    addressed_person_ids: tuple[int, ...] = ()  # local people in to / cc
    audience_id: int | None = None  # the known remote group named as `audience`
    mentioned_person_ids: tuple[int, ...] = ()  # local people its Mention tags name


# Calls to action: petitions and mobilizations (server/services/petitions.py, mobilizations.py).

PETITION_STATUSES = ("open", "closed", "delivered", "won", "lost")


@dataclass(frozen=True)
class Petition:
    id: int
    uri: str | None  # ActivityPub id of a remote petition
    url: str | None
    group_id: int
    group_name: str
    group_domain: str | None
    group_display_name: str
    author_id: int | None
    title: str
    body: str
    body_html: str
    addressee: str
    goal: int
    deadline: datetime | None
    status: str
    status_note: str
    option_name: str
    signature_count: int
    created_at: datetime
    updated_at: datetime
    is_open: bool  # open, and its deadline (if any) not passed

    @property
    def is_local(self) -> bool:
        return self.uri is None

    @property
    def progress(self) -> int:
        """Return the percentage of the goal reached, at most 100."""
        return min(100, self.signature_count * 100 // self.goal)


@dataclass(frozen=True)
class Signature:
    actor_id: int
    name: str
    domain: str | None
    display_name: str
    public: bool
    created_at: datetime


@dataclass(frozen=True)
class StatusChange:
    status: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class RemotePetition:
    """What federation read from a remote group's petition (a Question with its extensions)."""

    uri: str
    url: str | None
    title: str
    body_html: str
    addressee: str
    goal: int
    deadline: datetime | None
    status: str
    status_note: str
    option_name: str
    count: int


URGENCIES = ("normal", "high", "critical")


@dataclass(frozen=True)
class Mobilization:
    id: int
    uri: str | None  # ActivityPub id of a remote mobilization
    url: str | None
    group_id: int
    group_name: str
    group_domain: str | None
    group_display_name: str
    author_id: int | None
    what: str
    place: str
    starts_at: datetime
    why: str
    how_to_help: str
    urgency: str
    content_html: str
    hops: int
    created_at: datetime

    @property
    def is_local(self) -> bool:
        return self.uri is None


@dataclass(frozen=True)
class RemoteMobilization:
    """What federation read from a remote group's mobilization."""

    uri: str
    url: str | None
    what: str
    place: str
    starts_at: datetime
    why: str
    how_to_help: str
    urgency: str
    content_html: str


@dataclass(frozen=True)
class Alliance:
    """An alliance seen from a local group: 'offered', 'requested' or 'accepted'."""

    group_id: int
    ally_id: int
    ally_name: str
    ally_domain: str | None
    ally_display_name: str
    state: str
    uri: str
    relay: str  # 'auto' or 'approve'
    created_at: datetime


@dataclass(frozen=True)
class Reach:
    """Where a mobilization went: deliveries, and the allied groups that relayed it."""

    delivered: int
    pending: int
    failed: int
    relayed_by: list[str]
    awaiting_approval: list[str]


@dataclass(frozen=True)
class Event:
    """A gathering of a group: local, or received from a peer (Mobilizon, another Entraide)."""

    id: int
    uri: str | None  # ActivityPub id of a remote event
    url: str | None
    group_id: int
    group_name: str
    group_domain: str | None
    group_display_name: str
    organizer_id: int
    organizer_name: str
    organizer_domain: str | None
    title: str
    description: str
    description_html: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    all_day: bool
    place_name: str
    street_address: str
    postal_code: str
    locality: str
    country: str
    latitude: float | None
    longitude: float | None
    online_url: str
    category: str
    status: str
    visibility: str
    capacity: int | None
    join_mode: str
    external_url: str
    question: str
    show_participants: bool
    picture: str | None
    picture_alt: str
    going_count: int
    waiting_count: int
    pending_count: int
    remote_participant_count: int | None
    sequence: int
    created_at: datetime
    updated_at: datetime | None
    deleted_at: datetime | None

    @property
    def is_local(self) -> bool:
        return self.uri is None

    @property
    def participant_count(self) -> int:
        """People going: counted here for local events, as the origin says for remote ones."""
        if self.is_local or self.remote_participant_count is None:
            return self.going_count
        return self.remote_participant_count

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.participant_count, 0)

    @property
    def has_place(self) -> bool:
        return bool(self.place_name or self.street_address or self.locality)


@dataclass(frozen=True)
class Participant:
    id: int
    event_id: int
    actor_id: int
    name: str
    domain: str | None
    display_name: str
    uri: str | None
    state: str  # going, waiting, pending, rejected
    message: str
    join_uri: str | None
    promoted_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class OAuthApp:
    """An app registered for the client API (its secret is kept hashed, never here)."""

    id: int
    client_id: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    """What an authorization code grants, read when it is exchanged."""

    app_id: int
    account_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: datetime


@dataclass(frozen=True)
class AccessToken:
    """A live access token: a person's (account_id) or an app's own (account_id None)."""

    id: int
    account_id: int | None
    scopes: tuple[str, ...]
    created_at: datetime
    client_id: str
    app_name: str
    app_website: str | None


@dataclass(frozen=True)
class Profile:
    """An actor as the client API shows an account: a person or a group, local or remote."""

    id: int
    kind: str  # person | group
    name: str
    domain: str | None
    uri: str | None
    url: str | None
    display_name: str
    summary_html: str
    avatar: str | None
    created_at: datetime
    locked: bool  # follows (or joins) wait for approval
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None


@dataclass(frozen=True)
class PostView:
    """A post with what a reader's app shows around it."""

    post: Post
    author_kind: str
    author_uri: str | None
    author_url: str | None
    author_created_at: datetime
    group_name: str | None  # the group's display name
    group_visibility: str | None
    reply_count: int
    liked: bool  # by the reader
    in_reply_to_author_id: int | None


@dataclass(frozen=True)
class ThingRef:
    """Where a thing shown as a status is: its kind, its own id, its status id, its group."""

    kind: str  # event | petition | mobilization | board_item
    id: int
    status_id: int
    group_id: int
    members_only: bool  # of a members-only group, or an event for members only


@dataclass(frozen=True)
class ThingView:
    """An event, petition, mobilization or need/offer, as a status of its group's timeline."""

    status_id: int  # from the posts' sequence: one id space with posts
    group: Profile
    item: Event | Petition | Mobilization | BoardItem
    members_only: bool


@dataclass(frozen=True)
class TimelineRange:
    """Mastodon's pagination: older than max_id, newer than since_id, or just after min_id."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20


@dataclass(frozen=True)
class Notification:
    """Something that happened to a person, derived from likes, replies, follows and requests."""

    id: str  # the microseconds of its time: orders and pages like Mastodon's ids
    type: str  # favourite | mention | follow | follow_request
    created_at: datetime
    actor_id: int
    post_id: int | None


@dataclass(frozen=True)
class Relationship:
    id: int
    following: bool
    requested: bool
    muting: bool = False
    blocking: bool = False
    blocked_by: bool = False


# Mutual support: the board of needs and offers, availability.

BOARD_KINDS = ("need", "offer")
BOARD_CATEGORIES = (
    "goods", "food", "services", "transport", "housing", "money", "listening", "other",
)  # fmt: skip
BOARD_STATES = ("open", "fulfilled", "withdrawn")
# The functions of mutual support a group serves (DESIGN.md), as the directory filters them.
GROUP_TOPICS = (
    "material", "emotional", "motivation", "companionship", "information", "social", "advocacy",
)  # fmt: skip
# The languages a group may say it speaks (ISO 639-1), with their own names.
GROUP_LANGUAGES = {
    "fr": "Français", "en": "English", "es": "Español", "de": "Deutsch", "it": "Italiano",
    "pt": "Português", "nl": "Nederlands", "ca": "Català", "eu": "Euskara", "br": "Brezhoneg",
    "oc": "Occitan", "ar": "العربية", "tr": "Türkçe", "pl": "Polski", "ro": "Română",
    "uk": "Українська", "ru": "Русский", "wo": "Wolof",
}  # fmt: skip


@dataclass(frozen=True)
class BoardItem:
    """A need or an offer posted in a group (local, or kept from a remote group)."""

    id: int
    uri: str | None  # ActivityPub id of a remote item
    url: str | None
    group_id: int
    group_name: str
    group_domain: str | None
    author_id: int | None
    author_name: str | None
    author_domain: str | None
    author_display_name: str | None
    kind: str
    category: str
    title: str
    details: str
    details_html: str
    area: str
    latitude: float | None
    longitude: float | None
    valid_until: datetime
    answers: str  # private | public
    state: str
    helper_id: int | None
    helper_name: str | None
    helper_domain: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    is_open: bool  # open and not expired

    @property
    def is_local(self) -> bool:
        return self.uri is None


@dataclass(frozen=True)
class RemoteBoardItem:
    """What a peer says of one of its groups' board items."""

    uri: str
    url: str | None
    kind: str
    category: str
    title: str
    details_html: str
    area: str
    valid_until: datetime
    answers: str
    state: str


@dataclass(frozen=True)
class BoardAnswer:
    id: int
    item_id: int
    author_id: int
    author_name: str
    author_domain: str | None
    author_display_name: str
    public: bool
    content_html: str
    may_name: bool
    created_at: datetime
    uri: str | None = None  # the remote Note's id
    in_reply_to_id: int | None = None  # the answer the poster replies to


@dataclass(frozen=True)
class BoardMatch:
    """One of the viewer's open items and an open item of someone else that answers it."""

    mine: BoardItem
    theirs: BoardItem


@dataclass(frozen=True)
class Availability:
    id: int
    group_id: int
    actor_id: int
    name: str
    display_name: str
    kind: str  # now | weekly
    until: datetime | None
    weekday: int | None
    start_minute: int | None
    end_minute: int | None
    timezone: str
    note: str


@dataclass(frozen=True)
class AvailableMember:
    """A member available now or soon: from when to when (the next window), with their note."""

    availability: Availability
    starts_at: datetime
    ends_at: datetime
    now: bool


@dataclass(frozen=True)
class ConversationRequest:
    id: int
    group_id: int
    from_id: int
    from_name: str
    from_display_name: str
    message: str
    created_at: datetime
    from_domain: str | None = None  # another instance's person
    to_id: int | None = None


@dataclass(frozen=True)
class Resource:
    """An item of a group's library: a link or an uploaded document."""

    id: int
    group_id: int
    group_name: str
    author_id: int | None
    author_name: str | None
    title: str
    description: str
    description_html: str
    link: str | None
    file_name: str | None
    media_type: str | None
    size: int | None
    original_name: str | None
    tags: list[str]
    pinned_at: datetime | None
    created_at: datetime
    uri: str | None = None  # a remote group's item: its ActivityPub id
    url: str | None = None  # and its page there
    group_domain: str | None = None

    @property
    def is_local(self) -> bool:
        return self.uri is None


@dataclass(frozen=True)
class RemoteResource:
    """A library item of a remote group, as federation read it (a link or a document)."""

    uri: str
    url: str | None
    title: str
    description_html: str
    link: str  # the link, or the document's address on its instance
    media_type: str | None  # set for a document
    original_name: str | None
    tags: list[str]


@dataclass(frozen=True)
class RemoteGoal:
    """A goal of a remote group's member, or a follow-up on one, as federation read it."""

    uri: str
    url: str | None
    title: str
    body_html: str
    public: bool
    addressed_person_ids: tuple[int, ...]


@dataclass(frozen=True)
class Goal:
    id: int
    group_id: int
    group_name: str
    author_id: int
    author_name: str
    author_display_name: str
    title: str
    body: str
    body_html: str
    visibility: str  # members | public
    created_at: datetime
    likes: int
    updates: int
    uri: str | None = None  # a goal of another instance: its ActivityPub id
    url: str | None = None
    group_domain: str | None = None

    @property
    def is_local(self) -> bool:
        return self.uri is None


@dataclass(frozen=True)
class GoalUpdate:
    """A step of a goal's timeline: a follow-up by its author, or someone's encouragement."""

    id: int
    goal_id: int
    author_id: int
    author_name: str
    author_display_name: str
    kind: str  # followup | encouragement
    content_html: str
    created_at: datetime


@dataclass(frozen=True)
class Report:
    """A report waiting for moderators: from a person here, or a Flag from another server."""

    id: int
    origin_domain: str | None  # the server that sent the Flag; None for a local report
    reason: str
    post_id: int | None
    group_id: int | None
    forwarded: bool
    created: str
    target: str  # the reported person or group, as a handle
    post_html: str  # the start of the reported post (sanitized when stored)
