"""Use cases of the platform. Each takes a SQLAlchemy session and raises DomainError subclasses."""
