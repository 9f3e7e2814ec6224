"""Local stand-ins for the AWS services and Kafka: the same code runs here and on AWS."""
