"""NLP components: spaCy NER, entity resolution, geocoding, dates, the PLOVER event coder."""
