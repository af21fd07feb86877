import logging

logger = logging.getLogger("harbor")
