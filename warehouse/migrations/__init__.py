"""The warehouse DDL: ``NNNN_name.sql`` files applied in order by :mod:`warehouse.migrate`."""
