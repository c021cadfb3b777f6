"""Test images (factory) and the image host server that delivers them with controlled timing."""
