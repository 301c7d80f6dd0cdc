from . import equisis_letter
from . import purchase_order
