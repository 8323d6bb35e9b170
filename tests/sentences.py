"""Sentences the web tests type: the product's founding example and hostile markup."""

FOUNDING = "Don't smoke so often, it will have a strong effect on your lungs and lead to more serious complications."
HOSTILE = "<img src=x onerror=alert(1)> <b>x</b>"
