"""`manage.py poller`: follow every generation at Runway until stopped (SIGTERM or Ctrl-C)."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from generations.poller import Poller


class Command(BaseCommand):
    help = "Poll Runway for every generation in flight; any number may run, one polls at a time."

    def add_arguments(self, parser):
        parser.add_argument("--max-wait", type=float, default=None,
                            help="Longest sleep between looks at the database, in seconds.")

    def handle(self, *args, **options):
        kwargs = {"max_wait": options["max_wait"]} if options["max_wait"] else {}
        poller = Poller(**kwargs)

        def stop(signum, frame):
            # Finish the pass in hand, hand the lease back, exit.
            poller.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        passes = poller.run()
        self.stdout.write(f"poller {poller.holder} stopped after {passes} passes")
