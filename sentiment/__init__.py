"""Sentiment: models behind one Protocol, the scoring service, word-of-mouth flags."""
