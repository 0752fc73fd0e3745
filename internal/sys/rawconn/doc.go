// Package rawconn makes a socket's reads and writes cheaper for
// round-trip-bound traffic such as a forwarded X11 connection.
//
// Go's net package wraps every read and write in the scheduler's syscall
// bookkeeping. When such a call takes longer than a tick of the runtime's
// monitor thread (20 µs — common for a write that wakes the X server on a
// virtual machine), the monitor takes the processor away and wakes another
// thread to run it, and the first thread has to sleep when its call
// returns: two thread switches per call, on a path that makes four calls
// per X11 round trip. The sockets are non-blocking, so their reads and
// writes never block; Wrap makes them as raw system calls, which the
// monitor does not see, and waits for readiness through the same
// netpoller, deadlines and Close as before.
package rawconn
