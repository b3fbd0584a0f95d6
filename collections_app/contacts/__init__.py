"""The contact log and its compliance governor, consent, promises to pay, payments taken by reps,
follow-up dates, notes, and the cease-communication and attorney-represented flags."""
