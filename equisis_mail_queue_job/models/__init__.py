from . import equisis_mail_service
