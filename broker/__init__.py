"""The Kafka seam: everything that talks to Kafka.

Settings (:mod:`broker.settings`), the one place kafka-python clients are built
(:mod:`broker.clients`), topic sync (:mod:`broker.topics`), production provisioning
(:mod:`broker.provision`), lag from high watermarks (:mod:`broker.lag`) and the local brokers
(:mod:`broker.tansu`). Named ``broker`` so that it never shadows kafka-python's ``kafka``.
"""
