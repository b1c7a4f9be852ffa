"""Side-by-side measurements; the ``molgen bench`` subcommands call into here."""
