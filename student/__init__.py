"""gradkit's student side: checking and exporting a notebook before hand-in."""
