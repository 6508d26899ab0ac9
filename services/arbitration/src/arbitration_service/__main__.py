from dinamis_common.runtime import serve

from arbitration_service.bootstrap import create_app
from arbitration_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
