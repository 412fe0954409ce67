"""`smati bench alarms`: alarms from readings to a notification received, through Kafka,
the workers, the notifier and Alertmanager."""
