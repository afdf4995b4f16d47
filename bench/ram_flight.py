"""A pyarrow Flight server holding a table in RAM: the transfer limit a
get is measured against (what moving the rows from one process to another
over gRPC costs when nothing is read from disk).

    python bench/ram_flight.py PARQUET PORT
"""

import sys

import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq


class InRam(flight.FlightServerBase):
    def __init__(self, location, table):
        super().__init__(location)
        self.table = table

    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.table)


if __name__ == "__main__":
    path, port = sys.argv[1], int(sys.argv[2])
    # Batches of shoots' row-group size, so both send messages alike.
    batches = pq.read_table(path).combine_chunks().to_batches(max_chunksize=128 * 1024)
    InRam(f"grpc://127.0.0.1:{port}", pa.Table.from_batches(batches)).serve()
