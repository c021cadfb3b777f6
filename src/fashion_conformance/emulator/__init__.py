"""The embedded emulator of AI Fashion v1.0/v2.0, AI Fashion Maker v1.0 and Omnious Tagger v2.12."""
