from . import equisis_letter
from . import sale_order
