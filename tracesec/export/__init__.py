"""Getting records out of the process: a bounded queue, one worker thread, pluggable transports."""
