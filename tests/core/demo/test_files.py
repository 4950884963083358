"""Tests for the demo's files: what the agents attach, and the check of every linked ticket."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tests.core.demo.support import FakeDesk, QuietFakeDesk
from tierbridge.core.demo.desks import Seen
from tierbridge.core.demo.files import (
    DemoFile,
    LinkedTicket,
    attach,
    attach_customer_logs,
    check_files,
    customer_log,
    describe_file_counts,
    diagnostic_report,
    gets_customer_log,
)
from tierbridge.core.model import Tier


@dataclass(frozen=True)
class Planned:
    """A planned ticket as `attach_customer_logs` reads it."""

    number: str
    escalates: bool


def seen(ticket_id: str, key: str) -> Seen:
    return Seen(ticket_id, key, "", resolved=False, status="New")


class TestDemoFiles:
    def test_customer_log_names_key(self) -> None:
        """The customer's log names the L1 ticket, is UTF-8 with non-ASCII text, and is from L1."""
        log = customer_log("00001007")

        assert log.filename == "Prüfprotokoll-00001007.txt"
        assert "00001007" in log.content.decode("utf-8")
        assert any(byte > 0x7F for byte in log.content)
        assert log.origin is Tier.L1

    def test_reports_differ_per_tier(self) -> None:
        """Reports of two tiers for one key have different bytes, so each is checked apart."""
        l2 = diagnostic_report(Tier.L2, "INC0010001")
        l3 = diagnostic_report(Tier.L3, "INC0010001")

        assert l2.filename == "diagnostics-INC0010001.txt"
        assert "INC0010001" in l2.content.decode("utf-8")
        assert any(byte > 0x7F for byte in l2.content)
        assert l2.sha256 != l3.sha256
        assert (l2.origin, l3.origin) == (Tier.L2, Tier.L3)

    def test_every_third_escalation_gets_log(self) -> None:
        """The first escalated ticket and every third after it get the customer's log."""
        chosen = [gets_customer_log(index) for index in range(7)]

        assert chosen == [True, False, False, True, False, False, True]


class TestAttach:
    def test_notifying_desk_gets_no_note(self) -> None:
        """On a system whose upload notifies the daemon, the agent only attaches the file."""
        desk = FakeDesk([seen("A", "00001001")], {})
        log = customer_log("00001001")

        attach(desk, "A", log)

        [stored] = desk.attachments("A")
        assert (stored.filename, stored.sha256) == (log.filename, log.sha256)
        assert desk.journal("A") == []

    def test_quiet_desk_gets_note(self) -> None:
        """On a system whose upload sends no notice, an internal note names the file."""
        desk = QuietFakeDesk([seen("A", "00001001")], {})
        log = customer_log("00001001")

        attach(desk, "A", log)

        [note] = desk.journal("A")
        assert not note.public
        assert log.filename in note.text
        assert len(desk.attachments("A")) == 1

    def test_customer_logs_every_third_escalating(self) -> None:
        """Only the 1st and 4th escalating tickets get a log, named by their L1 key."""
        sample = [
            Planned("N1", escalates=True),
            Planned("N2", escalates=False),
            Planned("N3", escalates=True),
            Planned("N4", escalates=True),
            Planned("N5", escalates=True),
            Planned("N6", escalates=False),
        ]
        ids = {planned.number: f"id-{planned.number}" for planned in sample}
        desk = FakeDesk([seen(ticket_id, f"KEY-{n}") for n, ticket_id in ids.items()], {})

        attached = attach_customer_logs(desk, sample, ids)

        assert list(attached) == ["N1", "N5"]
        assert attached["N5"].filename == "Prüfprotokoll-KEY-N5.txt"
        assert [len(desk.attachments(ticket_id)) for ticket_id in ids.values()] == [
            1,
            0,
            0,
            0,
            1,
            0,
        ]


class TestCheckFiles:
    """The check flags each way a copy can go wrong, so a passing demo means something."""

    def setup_method(self) -> None:
        self.lower = FakeDesk([seen("A", "00001001")], {})
        self.upper = FakeDesk([seen("B", "L2-1")], {})
        self.tickets = [
            LinkedTicket(Tier.L1, self.lower, "A", "00001001"),
            LinkedTicket(Tier.L2, self.upper, "B", "L2-1"),
        ]
        self.log = customer_log("00001001")
        self.report = diagnostic_report(Tier.L2, "L2-1")

    def put(self, desk: FakeDesk, ticket_id: str, file: DemoFile) -> None:
        desk.attach(ticket_id, file.filename, file.content, "text/plain")

    def test_each_once_counted(self) -> None:
        """Two files on both tickets count twice per tier, with no problem."""
        for file in (self.log, self.report):
            self.put(self.lower, "A", file)
            self.put(self.upper, "B", file)
        problems: list[str] = []

        counts = check_files("SR-1", self.tickets, [self.log, self.report], problems)

        assert problems == []
        assert counts == Counter({Tier.L1: 2, Tier.L2: 2})

    def test_missing_copy_reported(self) -> None:
        """A report that never came down to L1 is a problem, and is not counted there."""
        self.put(self.upper, "B", self.report)
        problems: list[str] = []

        counts = check_files("SR-1", self.tickets, [self.report], problems)

        assert counts == Counter({Tier.L2: 1})
        assert problems == [
            "SR-1: 'diagnostics-L2-1.txt' found 0 times in L1 00001001, "
            "expected once with the same SHA-256"
        ]

    def test_copy_back_reported(self) -> None:
        """A file copied back to the ticket it was attached to is found twice there."""
        self.put(self.lower, "A", self.log)
        self.put(self.lower, "A", self.log)
        self.put(self.upper, "B", self.log)
        problems: list[str] = []

        counts = check_files("SR-1", self.tickets, [self.log], problems)

        assert counts == Counter({Tier.L2: 1})
        assert len(problems) == 1
        assert "found 2 times in L1 00001001 (the ticket it was attached to)" in problems[0]

    def test_changed_bytes_reported(self) -> None:
        """A copy whose bytes changed is missing, and the changed file is named as unknown."""
        self.put(self.lower, "A", self.log)
        mangled = self.log.content.replace(b"\n", b"\r\n")
        self.upper.attach("B", self.log.filename, mangled, "text/plain")
        problems: list[str] = []

        counts = check_files("SR-1", self.tickets, [self.log], problems)

        assert counts == Counter({Tier.L1: 1})
        assert len(problems) == 2
        assert "found 0 times in L2 L2-1" in problems[0]
        assert "L2 L2-1 has 'Prüfprotokoll-00001001.txt', which matches no" in problems[1]

    def test_renamed_copy_reported(self) -> None:
        """A copy with the same bytes under another name is a problem."""
        self.put(self.lower, "A", self.log)
        self.upper.attach("B", "Pr_fprotokoll-00001001.txt", self.log.content, "text/plain")
        problems: list[str] = []

        counts = check_files("SR-1", self.tickets, [self.log], problems)

        assert counts == Counter({Tier.L1: 1})
        assert problems == [
            "SR-1: 'Prüfprotokoll-00001001.txt' has the same bytes in L2 L2-1 "
            "but is named 'Pr_fprotokoll-00001001.txt'"
        ]


class TestDescribeFileCounts:
    def test_two_tiers(self) -> None:
        """Two tiers read as `N files checked in A and M in B, each once`."""
        text = describe_file_counts(
            Counter({Tier.L1: 2, Tier.L2: 5}), {Tier.L1: "SN", Tier.L2: "JSM"}
        )

        assert text == "2 files checked in SN and 5 in JSM, each once"

    def test_three_tiers_and_zero(self) -> None:
        """Three tiers are listed with commas, and a tier without files counts 0."""
        tiers = {Tier.L1: "L1", Tier.L2: "L2", Tier.L3: "L3"}

        text = describe_file_counts(Counter({Tier.L1: 4, Tier.L2: 4}), tiers)

        assert text == "4 files checked in L1, 4 in L2 and 0 in L3, each once"
