"""Log lines carry the syslog priority prefix ("<6>", "<4>") only when
stderr is the journal, that is when JOURNAL_STREAM names the device and
inode stderr writes to (as systemd sets it); on a terminal or in a file
they are plain."""

import os

from cdhttest.case import NodeTestCase, main


class Logging(NodeTestCase):
    def test_plain_unless_the_journal(self):
        os.environ.pop("JOURNAL_STREAM", None)
        n = self.make_node()
        self.assertIn("\nhttp: listening on", n.stderr_tail(100000))
        self.assertNotIn("<6>", n.stderr_tail(100000))
        self.assertEqual(n.stop(), 0)

        # stderr is the file the harness appends to: name it as the journal
        st = os.stat(n.stderr_path)
        os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        self.addCleanup(os.environ.pop, "JOURNAL_STREAM", None)
        n.start()
        self.assertIn("<6>http: listening on", n.stderr_tail(100000))
        self.assertEqual(n.stop(), 0)
        # another file's device and inode: plain again
        os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino + 1)
        n.start()
        tail = n.stderr_tail(100000).rsplit("--- start", 1)[-1]
        self.assertIn("\nhttp: listening on", tail)
        self.assertNotIn("<6>", tail)


if __name__ == "__main__":
    main()
