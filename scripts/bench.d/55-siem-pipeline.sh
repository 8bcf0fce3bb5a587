# siem-pipeline: the delivery loop (source -> batch -> sink -> commit) on 100,000 CEF
# records of about 400 bytes (criterion): its own cost with a sink that discards and a
# commit that only counts; the same with a durable checkpoint commit (fsync, rename,
# directory fsync) per 1000-record batch; and the file sink appending them with an fsync
# per batch. The task names no peer for these; the end-to-end exporter figures beside
# the Python exporter are printed by the exporter's part.
cargo bench -q -p siem-pipeline --bench delivery --no-run >&2
cargo bench -q -p siem-pipeline --bench delivery -- --warm-up-time 1 --measurement-time 5 >&2
figure pipeline_delivery_loop "$(criterion_rate delivery/loop_to_null_sink_100k 100000)" records/s
figure pipeline_delivery_with_checkpoints "$(criterion_rate delivery/loop_with_checkpoints_100k 100000)" records/s
figure pipeline_file_sink "$(criterion_rate delivery/file_sink_100k 100000)" records/s
