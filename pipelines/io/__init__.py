"""I/O connectors: the local broker, Kafka source and sinks, Avro files, archives, feeds."""
