from . import test_sale_send
