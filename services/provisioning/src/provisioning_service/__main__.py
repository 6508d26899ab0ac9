from dinamis_common.runtime import serve

from provisioning_service.bootstrap import create_app
from provisioning_service.settings import Settings

settings = Settings()
serve(create_app(settings), settings)
