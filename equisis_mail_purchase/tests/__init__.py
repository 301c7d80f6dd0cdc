from . import test_purchase_send
