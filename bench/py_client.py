"""The Python standard-library baseline of the benchmark: http.client with
keep-alive and json, sequential or with a thread pool.

  py_client.py single BASE TOKEN PATH PAGE_SIZE
  py_client.py fleet BASE TOKEN PREFIX FOLDER PAGE_SIZE THREADS   (THREADS=1: sequential)
  py_client.py sum BASE TOKEN PATH PAGE_SIZE      (count and sum sizes)
Prints the number of backups (and the size sum for `sum`).
"""
import http.client
import json
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()


def conn(base):
    c = getattr(_local, "conn", None)
    if c is None:
        u = urllib.parse.urlsplit(base)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        _local.conn = c
    return c


def get(base, token, path):
    c = conn(base)
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError("HTTP %d for %s" % (r.status, path))
    return json.loads(body)


def pages(base, token, path, size):
    tok = ""
    sep = "&" if "?" in path else "?"
    while True:
        q = "%s%spageSize=%d" % (path, sep, size)
        if tok:
            q += "&pageToken=" + urllib.parse.quote(tok, safe="")
        page = get(base, token, q)
        yield page
        tok = page.get("nextPageToken", "")
        if not tok:
            return


def count(base, token, path, size):
    return sum(len(p.get("backups", [])) for p in pages(base, token, path, size))


def main():
    mode = sys.argv[1]
    if mode == "single":
        print(count(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    elif mode == "sum":
        n = s = 0
        for p in pages(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])):
            for b in p.get("backups", []):
                n += 1
                s += int(b.get("size", "0"))
        print(n, s)
    elif mode == "fleet":
        base, token, prefix, folder = sys.argv[2:6]
        size, threads = int(sys.argv[6]), int(sys.argv[7])
        clusters = get(base, token, "%s/clusters?folderId=%s&pageSize=1000" % (prefix, folder))
        ids = [c["id"] for c in clusters.get("clusters", [])]
        paths = ["%s/clusters/%s/backups" % (prefix, urllib.parse.quote(i, safe="")) for i in ids]
        if threads == 1:
            total = sum(count(base, token, p, size) for p in paths)
        else:
            with ThreadPoolExecutor(threads) as ex:
                total = sum(ex.map(lambda p: count(base, token, p, size), paths))
        print(total)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
