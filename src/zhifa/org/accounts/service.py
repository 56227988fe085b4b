"""Account rules shared by the web pages, the JSON API and the command line: passwords, API tokens,
the language choice and creating accounts. 账户规则（密码、API 令牌、语言、开户）。

Methods take ``(session, actor, *, ...)`` and never commit. ``actor`` is None on the command line,
which acts as the system; its ledger events carry ``actor_id`` None and ``{"via": "cli"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.models.org import District, Officer, Unit
from zhifa.models.security import ApiToken
from zhifa.org.accounts import repository
from zhifa.org.accounts.passwords import check_policy, hash_password, verify_password
from zhifa.org.actor import Actor
from zhifa.org.credentials import TOKEN_PREFIX, digest, new_secret
from zhifa.org.roles import Permission, Role, ScopeLevel, permissions_for
from zhifa.web.i18n import LOCALES

MAX_TOKEN_DAYS = 3650
# The command line revokes by prefix: too short a prefix would hit some token by chance.
MIN_PREFIX = 8
LOCALE_CHOICES = LOCALES


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: its secret (shown once, never stored) and its row."""

    secret: str
    row: ApiToken


@dataclass(frozen=True)
class Profile:
    """Who I am: the officer with their unit and district, for the account page and /me."""

    officer: Officer
    unit: Unit | None
    district: District | None


@dataclass(frozen=True)
class AccountCreate:
    """A new account, as the command line asks for it."""

    username: str
    name: str
    district_code: str
    roles: list[str]
    scope: str
    password: str
    unit_code: str | None = None
    cert_no: str | None = None
    phone: str = ""


def _via(actor: Actor | None) -> str:
    return actor.via if actor is not None else "cli"


def _actor_id(actor: Actor | None) -> int | None:
    return actor.officer_id if actor is not None else None


def holder_permissions(officer: Officer) -> frozenset[Permission]:
    """What the officer's roles allow: the ceiling of any token they hold."""
    return permissions_for(frozenset(Role(r) for r in officer.roles if r in set(Role)))


def cert_valid(officer: Officer, today: date) -> bool | None:
    """Whether the 执法证 is valid today; None when the officer has no certificate."""
    if not officer.cert_no:
        return None
    if officer.cert_valid_from is not None and officer.cert_valid_from > today:
        return False
    return officer.cert_valid_until is None or officer.cert_valid_until >= today


class AccountService:
    # -- who I am -----------------------------------------------------------------------------

    def profile(self, session: Session, actor: Actor) -> Profile:
        officer = session.get(Officer, actor.officer_id)
        if officer is None:
            raise NotFound("The officer does not exist, or is outside your data scope.")
        unit = session.get(Unit, officer.unit_id) if officer.unit_id is not None else None
        return Profile(officer, unit, session.get(District, officer.district_code))

    def get_officer(self, session: Session, actor: Actor, *, officer_id: int) -> Officer:
        """An officer inside the actor's data scope; anything else answers 404."""
        officer = repository.officer_in_scope(session, actor.scope, officer_id)
        if officer is None:
            raise NotFound("The officer does not exist, or is outside your data scope.")
        return officer

    def get_officer_by_username(self, session: Session, *, username: str) -> Officer:
        """Unscoped lookup, for the command line."""
        officer = repository.officer_by_username(session, username.strip())
        if officer is None:
            raise NotFound("No account has the user name {username}.", username=username)
        return officer

    def set_locale(self, session: Session, actor: Actor, *, locale: str) -> None:
        if locale not in LOCALE_CHOICES:
            raise InvalidInput("Choose a language from the list.", detail={"field": "locale"})
        officer = self.profile(session, actor).officer
        if officer.locale == locale:
            return
        officer.locale = locale
        self._record(session, actor, "account.locale_changed", officer, {"locale": locale})

    # -- passwords ------------------------------------------------------------------------------

    def change_password(
        self,
        session: Session,
        actor: Actor,
        *,
        settings: Settings,
        current: str,
        new: str,
        keep_session_hash: str | None = None,
    ) -> int:
        """Change my own password and revoke my other web sessions; returns how many."""
        officer = self.profile(session, actor).officer
        if not verify_password(officer.password_hash, current):
            raise InvalidInput(
                "The current password is wrong.", detail={"field": "current_password"}
            )
        if verify_password(officer.password_hash, new):
            raise InvalidInput(
                "The new password must differ from the current one.",
                detail={"field": "new_password"},
            )
        self._set_password(officer, new, settings)
        revoked = repository.revoke_sessions(
            session, officer.id, utcnow(), keep_hash=keep_session_hash
        )
        payload = {"sessions_revoked": revoked}
        self._record(session, actor, "account.password_changed", officer, payload)
        return revoked

    def reset_password(
        self,
        session: Session,
        actor: Actor | None,
        *,
        settings: Settings,
        officer: Officer,
        new: str,
    ) -> None:
        """Set another officer's password (an administrator, or the command line): clears the
        lock-out and ends their web sessions; their API tokens stay."""
        self._set_password(officer, new, settings)
        officer.failed_logins = 0
        officer.locked_until = None
        revoked = repository.revoke_sessions(session, officer.id, utcnow())
        payload = {"username": officer.username, "sessions_revoked": revoked}
        self._record(session, actor, "account.password_reset", officer, payload)

    @staticmethod
    def _set_password(officer: Officer, password: str, settings: Settings) -> None:
        check_policy(password, min_length=settings.password_min_length, username=officer.username)
        officer.password_hash = hash_password(password)
        officer.password_changed_at = utcnow()

    # -- API tokens -----------------------------------------------------------------------------

    def token_holder(self, session: Session, actor: Actor, *, officer_id: int | None) -> Officer:
        """Whose tokens the actor is asking about: their own, or (with tokens:manage) an officer's
        in their data scope."""
        if officer_id is None or officer_id == actor.officer_id:
            return self.profile(session, actor).officer
        if not actor.can(Permission.TOKENS_MANAGE):
            raise PermissionDenied(
                "Only holders of tokens:manage may manage other officers' tokens.",
                detail={"permission": str(Permission.TOKENS_MANAGE)},
            )
        return self.get_officer(session, actor, officer_id=officer_id)

    def list_tokens(self, session: Session, actor: Actor, *, holder: Officer) -> Sequence[ApiToken]:
        return repository.tokens_of(session, holder.id)

    def create_token(
        self,
        session: Session,
        actor: Actor | None,
        *,
        settings: Settings,
        holder: Officer,
        name: str,
        scopes: list[str] | None = None,
        days: int | None = None,
    ) -> IssuedToken:
        """Issue a bearer token for ``holder``; its secret is in the answer and nowhere else."""
        name = self._token_name(name)
        chosen = self._token_scopes(actor, holder, scopes)
        days = self._token_days(days, settings)
        secret = new_secret(TOKEN_PREFIX)
        row = ApiToken(
            district_code=holder.district_code,
            officer_id=holder.id,
            name=name,
            prefix=secret[:10],
            token_hash=digest(secret),
            scopes=chosen,
            expires_at=utcnow() + timedelta(days=days),
        )
        session.add(row)
        session.flush()
        payload = {"officer_id": holder.id, "name": name, "prefix": row.prefix, "scopes": chosen}
        self._record(session, actor, "account.token_created", row, payload | {"days": days})
        return IssuedToken(secret, row)

    def revoke_token(self, session: Session, actor: Actor, *, token_id: int) -> ApiToken:
        """Revoke my token, or (with tokens:manage) one in my data scope; others answer 404."""
        row = repository.token_in_scope(session, actor.scope, token_id)
        if row is None or (
            row.officer_id != actor.officer_id and not actor.can(Permission.TOKENS_MANAGE)
        ):
            raise NotFound("The token does not exist, or is outside your data scope.")
        return self._revoke(session, actor, row)

    def revoke_token_by_key(self, session: Session, *, key: str) -> ApiToken:
        """Command line: revoke the token with this id or prefix (unscoped)."""
        key = key.strip()
        if not key.isdigit() and len(key) < MIN_PREFIX:
            raise InvalidInput(
                "Give the token's id, or at least {length} characters of its prefix.",
                detail={"field": "key"},
                length=MIN_PREFIX,
            )
        rows = repository.tokens_by_id_or_prefix(session, key)
        if not rows:
            raise NotFound("No token has the id or prefix {key}.", key=key)
        if len(rows) > 1:
            raise Conflict("Several tokens start with {key}: give more of the prefix.", key=key)
        return self._revoke(session, None, rows[0])

    def _revoke(self, session: Session, actor: Actor | None, row: ApiToken) -> ApiToken:
        if row.revoked_at is not None:
            raise Conflict("The token was already revoked.", detail={"id": row.id})
        row.revoked_at = utcnow()
        payload = {"officer_id": row.officer_id, "name": row.name, "prefix": row.prefix}
        self._record(session, actor, "account.token_revoked", row, payload)
        return row

    @staticmethod
    def _token_name(name: str) -> str:
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput(
                "Give the token a name of 1 to 100 characters.", detail={"field": "name"}
            )
        return name

    @staticmethod
    def _token_scopes(actor: Actor | None, holder: Officer, scopes: list[str] | None) -> list[str]:
        """The scopes asked for, which must lie within the holder's permissions (and, for my own
        token, within what my current credentials allow)."""
        allowed = holder_permissions(holder)
        if actor is not None and actor.officer_id == holder.id:
            allowed &= actor.permissions
        if scopes is None:
            return sorted(str(p) for p in allowed)
        wanted = {s.strip() for s in scopes if s.strip()}
        beyond = sorted(wanted - {str(p) for p in allowed})
        if beyond or not wanted:
            raise InvalidInput(
                "A token's scopes must be chosen among its holder's permissions: {scopes}.",
                detail={"field": "scopes", "not_allowed": beyond},
                scopes=", ".join(beyond) or "—",
            )
        return sorted(wanted)

    @staticmethod
    def _token_days(days: int | None, settings: Settings) -> int:
        days = settings.api_token_days if days is None else days
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidInput(
                "A token is valid for 1 to {max_days} days.",
                detail={"field": "days"},
                max_days=MAX_TOKEN_DAYS,
            )
        return days

    # -- accounts -------------------------------------------------------------------------------

    def create_account(
        self, session: Session, actor: Actor | None, *, settings: Settings, data: AccountCreate
    ) -> Officer:
        """Open an account (command line): the district and unit must exist and agree."""
        username = self._check_new_username(session, data.username)
        district = repository.district(session, data.district_code.strip())
        if district is None:
            raise NotFound("District {district} does not exist.", district=data.district_code)
        roles, scope = self._check_roles(data.roles, data.scope)
        unit = self._check_unit(session, district.code, data.unit_code, scope)
        cert_no = self._check_cert_no(session, data.cert_no)
        officer = Officer(
            district_code=district.code,
            username=username,
            name=self._check_name(data.name),
            unit_id=unit.id if unit else None,
            cert_no=cert_no,
            phone=data.phone.strip(),
            roles=[str(r) for r in roles],
            scope=str(scope),
        )
        self._set_password(officer, data.password, settings)
        session.add(officer)
        session.flush()
        payload = {"username": username, "roles": officer.roles, "scope": officer.scope}
        self._record(session, actor, "account.created", officer, payload)
        return officer

    @staticmethod
    def _check_new_username(session: Session, username: str) -> str:
        username = username.strip()
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise InvalidInput(
                "A user name has 1 to 64 characters and no spaces.", detail={"field": "username"}
            )
        if repository.officer_by_username(session, username) is not None:
            raise Conflict("The user name {username} is already taken.", username=username)
        return username

    @staticmethod
    def _check_name(name: str) -> str:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput("A name has 1 to 100 characters.", detail={"field": "name"})
        return name

    @staticmethod
    def _check_roles(roles: list[str], scope: str) -> tuple[list[Role], ScopeLevel]:
        known = {str(r) for r in Role}
        wanted = [r.strip() for r in roles if r.strip()]
        unknown = [r for r in wanted if r not in known]
        if unknown or not wanted:
            raise InvalidInput(
                "Unknown roles: {roles}. Choose among: {choices}.",
                detail={"field": "roles", "unknown": unknown},
                roles=", ".join(unknown) or "—",
                choices=", ".join(sorted(known)),
            )
        if scope not in {str(s) for s in ScopeLevel}:
            raise InvalidInput(
                "Unknown data scope {scope}. Choose among: squad, brigade, district, city.",
                detail={"field": "scope"},
                scope=scope,
            )
        return [Role(r) for r in dict.fromkeys(wanted)], ScopeLevel(scope)

    @staticmethod
    def _check_unit(
        session: Session, district_code: str, unit_code: str | None, scope: ScopeLevel
    ) -> Unit | None:
        if not unit_code:
            if scope in (ScopeLevel.SQUAD, ScopeLevel.BRIGADE):
                raise InvalidInput(
                    "A squad or brigade data scope needs a unit.", detail={"field": "unit"}
                )
            return None
        units = repository.units_by_code(session, unit_code.strip())
        here = [u for u in units if u.district_code == district_code]
        if here:
            return here[0]
        if units:
            raise Conflict(
                "Unit {unit} is not in district {district}.", unit=unit_code, district=district_code
            )
        raise NotFound("Unit {unit} does not exist.", unit=unit_code)

    @staticmethod
    def _check_cert_no(session: Session, cert_no: str | None) -> str | None:
        cert_no = (cert_no or "").strip() or None
        if cert_no is not None and repository.officer_by_cert_no(session, cert_no) is not None:
            raise Conflict("Certificate number {cert_no} is already in use.", cert_no=cert_no)
        return cert_no

    @staticmethod
    def _record(
        session: Session, actor: Actor | None, kind: str, subject: Any, payload: dict[str, Any]
    ) -> None:
        ledger.record(
            session,
            kind,
            subject,
            payload | {"via": _via(actor)},
            actor_id=_actor_id(actor),
            district_code=subject.district_code,
        )


account_service = AccountService()
