from safety.api.cases import AdverseEventViewSet, CtcaeTermViewSet
from safety.api.obligations import ReportingObligationViewSet

__all__ = ["AdverseEventViewSet", "CtcaeTermViewSet", "ReportingObligationViewSet"]
