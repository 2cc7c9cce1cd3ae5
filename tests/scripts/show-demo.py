"""The demo's last word: the URL and what the app answers there."""

import sys
import time
import urllib.error
import urllib.request

url = sys.argv[1]
for attempt in range(10):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode("utf-8", "replace").strip()
            status = response.status
        break
    except (urllib.error.URLError, OSError) as error:
        if attempt == 9:
            sys.exit("the demo app does not answer at %s: %s" % (url, error))
        time.sleep(1)

print()
print("The example app is deployed: %s" % url)
print("HTTP %d  %s" % (status, body))
print("Try: curl %s   |   make demo again (changes nothing)   |   make demo-clean" % url)
